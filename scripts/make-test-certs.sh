#!/bin/sh
# Makes throw-away TLS material for the tests (nothing here is ever committed; docs/decisions.md D165):
#   ca.pem / ca.key          the test CA
#   broker.pem               broker key + certificate (SAN localhost, 127.0.0.1), for ssl.keystore.location
#   broker-cert.pem, broker-key.pem, broker-enc-key.pem (encrypted with "brokerpass")
#   client.pem, client-cert.pem, client-key.pem   client certificate, subject CN=alice,OU=dev,O=Runnel,C=DE
#   expired-cert.pem, expired-key.pem             client certificate from the test CA that has expired
#   rogue-ca.pem, untrusted-cert.pem, untrusted-key.pem   a client certificate from another CA
# Usage: scripts/make-test-certs.sh DIR   (DIR is created; openssl from Debian is required)
set -eu
dir=${1:?usage: make-test-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
days=30
quiet() { "$@" >/dev/null 2>&1 || { echo "make-test-certs: failed: $*" >&2; "$@"; exit 1; }; }

ext_server="subjectAltName=DNS:localhost,IP:127.0.0.1
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth"
ext_client="basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
printf '%s\n' "$ext_server" > server.ext
printf '%s\n' "$ext_client" > client.ext

# CAs.
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days $days -subj "/O=Runnel Test/CN=Runnel Test CA"
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue-ca.key -out rogue-ca.pem -days $days -subj "/O=Elsewhere/CN=Rogue CA"

# leaf NAME SUBJECT EXTFILE CA CAKEY [extra x509 args]
leaf() {
    quiet openssl req -newkey rsa:2048 -nodes -keyout "$1-key.pem" -out "$1.csr" -subj "$2"
}
sign() {  # sign NAME EXT CA CAKEY DAYSARGS...
    n=$1; e=$2; ca=$3; cakey=$4; shift 4
    quiet openssl x509 -req -in "$n.csr" -CA "$ca" -CAkey "$cakey" -CAcreateserial -out "$n-cert.pem" -extfile "$e" "$@"
}

leaf broker "/O=Runnel Test/CN=localhost"
sign broker server.ext ca.pem ca.key -days $days
cat broker-key.pem broker-cert.pem > broker.pem
quiet openssl pkey -in broker-key.pem -aes256 -passout pass:brokerpass -out broker-enc-key.pem

leaf client "/C=DE/O=Runnel/OU=dev/CN=alice"
sign client client.ext ca.pem ca.key -days $days
cat client-key.pem client-cert.pem > client.pem

# Expired: valid from two days ago until yesterday (openssl x509 -not_before/-not_after need
# openssl 3.4; `openssl ca` with explicit dates works on Debian 12's 3.0).
leaf expired "/C=DE/O=Runnel/OU=dev/CN=expired"
mkdir -p ca-db && : > ca-db/index.txt && echo 1000 > ca-db/serial
cat > ca-db/ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
CNF
start=$(date -u -d '2 days ago' +%Y%m%d%H%M%SZ)
end=$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)
quiet openssl ca -batch -config ca-db/ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired-cert.pem \
    -startdate "$start" -enddate "$end" -extfile client.ext -notext
cat expired-key.pem expired-cert.pem > expired.pem

leaf untrusted "/C=DE/O=Elsewhere/CN=mallory"
sign untrusted client.ext rogue-ca.pem rogue-ca.key -days $days
cat untrusted-key.pem untrusted-cert.pem > untrusted.pem

rm -f ./*.csr ./*.srl
chmod 600 ./*key.pem ./*.key broker.pem client.pem expired.pem untrusted.pem
echo "$dir"
