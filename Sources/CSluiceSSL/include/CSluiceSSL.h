// SPDX-License-Identifier: Apache-2.0
// CSluiceSSL: OpenSSL 3 headers (Debian's libssl-dev) and csluice_* wrappers for the APIs OpenSSL exposes only
// as macros. No logic: each wrapper is one call.
#ifndef CSLUICE_SSL_H
#define CSLUICE_SSL_H

#include <openssl/opensslv.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static inline const char *csluice_OpenSSL_version_text(void) { return OpenSSL_version(OPENSSL_VERSION); }
static inline const char *csluice_OPENSSL_VERSION_TEXT(void) { return OPENSSL_VERSION_TEXT; }

#endif
