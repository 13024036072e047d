#!/usr/bin/env bash
# Installs the real clients and peers the interoperability tests and benchmarks drive, from
# Debian's packages: swaks, Postfix (a peer MTA; smtp-source and smtp-sink for load), dnsmasq
# (an authoritative DNS server for test zones), dig, openssl, curl; for IMAP and POP3: isync
# (mbsync), fetchmail, and Dovecot (the IMAP benchmark's reference server); for the spam filter:
# SpamAssassin (the spam benchmark's reference) and Rspamd (the optional Rspamd merge). Idempotent: installs
# only what is missing. Postfix and Dovecot are installed unconfigured and never started as system
# services; tests and benchmarks run private instances with their own config.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have swaks || need+=(swaks)
perl -MNet::SSLeay -MIO::Socket::SSL -e1 2>/dev/null || need+=(libnet-ssleay-perl libio-socket-ssl-perl)
[ -x /usr/sbin/postfix ] || need+=(postfix)
have smtp-source || [ -x /usr/sbin/smtp-source ] || need+=(postfix)
have dnsmasq || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
have dig || need+=(bind9-dnsutils)
have openssl || need+=(openssl)
have curl || need+=(curl)
have mbsync || need+=(isync)
have fetchmail || need+=(fetchmail)
[ -x /usr/sbin/dovecot ] || need+=(dovecot-core)
[ -x /usr/lib/dovecot/imap ] || need+=(dovecot-imapd)
[ -x /usr/lib/dovecot/pop3 ] || need+=(dovecot-pop3d)
[ -x /usr/sbin/spamd ] || need+=(spamd spamc)
have sa-learn || need+=(spamassassin)
have rspamd || [ -x /usr/bin/rspamd ] || need+=(rspamd)

if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
echo "[tools] installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string postline-test.invalid" | debconf-set-selections
apt-get update -qq
# policy-rc.d keeps the package scripts from starting a system-wide Postfix or Dovecot (which
# would take ports 25, 110, 143, 993 and 995).
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Package scripts may start spamd or rspamd despite policy-rc.d on some paths: tests run their own.
pkill -x spamd >/dev/null 2>&1 || true
pkill -x rspamd >/dev/null 2>&1 || true
# A Dovecot started by an earlier install without policy-rc.d: stop it (there is no systemd here).
if [ -x /usr/sbin/dovecot ] && pidof dovecot >/dev/null 2>&1; then
  /usr/sbin/dovecot stop >/dev/null 2>&1 || true
fi
echo "[tools] installed"
