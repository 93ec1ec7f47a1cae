// SPDX-License-Identifier: Apache-2.0
// CSluiceSSL: OpenSSL 3 headers (Debian's libssl-dev) and csluice_* wrappers for the APIs OpenSSL exposes only
// as macros. No logic: each wrapper is one call or one constant. SluiceTLS imports this module `internal`, so
// no OpenSSL type appears in another module's API.
#ifndef CSLUICE_SSL_H
#define CSLUICE_SSL_H

#include <openssl/opensslv.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static inline const char *csluice_OpenSSL_version_text(void) { return OpenSSL_version(OPENSSL_VERSION); }
static inline const char *csluice_OPENSSL_VERSION_TEXT(void) { return OPENSSL_VERSION_TEXT; }

// SSL_CTX settings (ssl.h macros over SSL_CTX_ctrl / SSL_CTX_callback_ctrl).
static inline long csluice_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline int csluice_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int csluice_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
static inline int csluice_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}
static inline long csluice_SSL_CTX_sess_set_cache_size(SSL_CTX *ctx, long size) {
    return SSL_CTX_sess_set_cache_size(ctx, size);
}
static inline long csluice_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

typedef int (*csluice_servername_cb)(SSL *ssl, int *alert, void *arg);
static inline long csluice_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, csluice_servername_cb cb) {
    return SSL_CTX_set_tlsext_servername_callback(ctx, cb);
}

// SSL settings.
static inline int csluice_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

// ex_data indexes (macros over CRYPTO_get_ex_new_index); no constructor, duplicator or destructor.
static inline int csluice_SSL_get_ex_new_index(void) { return SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL); }
static inline int csluice_SSL_CTX_get_ex_new_index(void) { return SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL); }

// SSL_OP_* are built with SSL_OP_BIT(n), a cast expression Swift does not import.
static inline uint64_t csluice_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline uint64_t csluice_SSL_OP_NO_COMPRESSION(void) { return SSL_OP_NO_COMPRESSION; }
static inline uint64_t csluice_SSL_OP_NO_TICKET(void) { return SSL_OP_NO_TICKET; }
static inline uint64_t csluice_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }

// Certificate names (x509v3.h stack macros).
static inline int csluice_sk_GENERAL_NAME_num(const GENERAL_NAMES *names) { return sk_GENERAL_NAME_num(names); }
static inline GENERAL_NAME *csluice_sk_GENERAL_NAME_value(const GENERAL_NAMES *names, int i) {
    return sk_GENERAL_NAME_value(names, i);
}

// Parameter names for the ticket key HMAC (core_names.h string macros; static storage, as OSSL_PARAM needs).
static inline const char *csluice_OSSL_MAC_PARAM_KEY(void) { return OSSL_MAC_PARAM_KEY; }
static inline const char *csluice_OSSL_MAC_PARAM_DIGEST(void) { return OSSL_MAC_PARAM_DIGEST; }

#endif
