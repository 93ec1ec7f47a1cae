#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Regenerates the TLS test fixtures of Tests/SluiceTLSTests (and later the integration tests) with the openssl
# CLI only. Every PEM that a server or client loads holds certificate, chain and key in that order, as HAProxy's
# `crt` expects. Certificates are valid for 100 years except expired.pem. Run from anywhere:
#   sh Tests/Fixtures/certs/regenerate.sh
# Files:
#   ca.pem            test root CA (the ca-file of every test)
#   server.pem        localhost + 127.0.0.1, ECDSA P-256, signed by the intermediate; chain: intermediate
#   server-rsa.pem    the same names, RSA-2048
#   a.pem             a.example + a.wild.example (exact names that a wildcard also covers), ECDSA
#   wild.pem          *.wild.example, ECDSA
#   big.pem           localhost with 300 extra SAN names (a ~12 KB certificate: the handshake flight outgrows
#                     small socket buffers, so it hits WANT_WRITE)
#   client.pem        CN=client, clientAuth, signed directly by the root
#   mismatch.pem      server.pem's certificate with another key
#   expired.pem       localhost, valid only during 2020
#   foreign.pem       localhost, signed by another CA (other-ca.pem), no chain
#   other-ca.pem      that other CA
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
days=36500

eckey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
rsakey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
serial() { echo "0x$(openssl rand -hex 8)"; }

# ca NAME CN: a self-signed root.
ca() {
    rsakey "$work/$1.key"
    openssl req -x509 -new -key "$work/$1.key" -subj "/CN=$2" -days $days -sha256 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -out "$work/$1.crt"
}

# sign NAME KEYTYPE SUBJECT EXTENSIONS ISSUER: a leaf or intermediate signed by ISSUER.
sign() {
    $2 "$work/$1.key"
    openssl req -new -key "$work/$1.key" -subj "$3" -out "$work/$1.csr"
    printf '%b\n' "$4" >"$work/$1.ext"
    openssl x509 -req -in "$work/$1.csr" -CA "$work/$5.crt" -CAkey "$work/$5.key" -set_serial "$(serial)" \
        -days $days -sha256 -extfile "$work/$1.ext" -out "$work/$1.crt" 2>/dev/null
}

server_ext() {
    echo "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=$1"
}

ca root "sluice test CA"
ca other "sluice other CA"
sign inter rsakey "/CN=sluice test intermediate" \
    "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign" root

sign server eckey "/CN=localhost" "$(server_ext DNS:localhost,IP:127.0.0.1)" inter
sign server-rsa rsakey "/CN=localhost" "$(server_ext DNS:localhost,IP:127.0.0.1)" inter
sign a eckey "/CN=a.example" "$(server_ext DNS:a.example,DNS:a.wild.example)" inter
sign wild eckey "/CN=*.wild.example" "$(server_ext DNS:*.wild.example)" inter
many=$(i=0; while [ $i -lt 300 ]; do printf ',DNS:padding-name-%03d.big.example' $i; i=$((i + 1)); done)
sign big rsakey "/CN=localhost" "$(server_ext DNS:localhost,IP:127.0.0.1$many)" inter
sign client eckey "/CN=client" \
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth" root
sign foreign eckey "/CN=localhost" "$(server_ext DNS:localhost,IP:127.0.0.1)" other
eckey "$work/stray.key"

# expired: `openssl x509` in OpenSSL 3.0 cannot set notBefore, so this one goes through `openssl ca`.
mkdir "$work/db"
: >"$work/db/index.txt"
cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $work/db/index.txt
new_certs_dir = $work/db
serial = $work/db/serial
default_md = sha256
policy = anything
copy_extensions = none
x509_extensions = leaf
[anything]
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
CNF
openssl rand -hex 8 >"$work/db/serial"
eckey "$work/expired.key"
openssl req -new -key "$work/expired.key" -subj "/CN=localhost" -out "$work/expired.csr"
openssl ca -batch -notext -config "$work/ca.cnf" -cert "$work/inter.crt" -keyfile "$work/inter.key" \
    -startdate 20200101000000Z -enddate 20201231000000Z -in "$work/expired.csr" -out "$work/expired.crt" 2>/dev/null

# bundle OUT CERT KEY [CHAIN...]
bundle() {
    out=$1 crt=$2 key=$3
    shift 3
    { cat "$work/$crt.crt"; for c in "$@"; do cat "$work/$c.crt"; done; cat "$work/$key.key"; } >"$out"
}
cp "$work/root.crt" ca.pem
cp "$work/other.crt" other-ca.pem
bundle server.pem server server inter
bundle server-rsa.pem server-rsa server-rsa inter
bundle a.pem a a inter
bundle wild.pem wild wild inter
bundle big.pem big big inter
bundle client.pem client client
bundle mismatch.pem server stray inter
bundle expired.pem expired expired inter
bundle foreign.pem foreign foreign
echo "regenerated: $(ls *.pem | tr '\n' ' ')"
