#!/bin/sh
# The system packages the tests need, on Debian or Ubuntu: Dovecot (the real IMAP server the mail
# tests talk to), Pango (WeasyPrint's text layout), HarfBuzz subsetting (fast PDF fonts), Poppler's
# pdftotext, git, openssl, and LibreOffice Writer without its GUI (a test opens every DOCX in it). Run as root, or as a user with sudo. Elsewhere it says what to install;
# the tests that need Dovecot then skip with the reason (under CI=true they fail instead).
set -eu
PACKAGES="dovecot-imapd libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils git openssl libreoffice-writer-nogui"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/system-packages.sh: no apt-get here; install the equivalents of: $PACKAGES" >&2
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "tests/system-packages.sh: run as root (or install sudo) to install: $PACKAGES" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -qq
# shellcheck disable=SC2086
$as_root apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
