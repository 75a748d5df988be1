#!/bin/sh
# regen.sh - record the golden postconf output in this directory.
#
# Runs Debian's Postfix 3.7 postconf (/usr/sbin/postconf) on main.cf and
# master.cf here, on master-commands.cf with an empty main.cf, and on an
# empty configuration, and writes what it prints into the *.golden files
# and ../postconf-d.txt. Run it by hand, once, on a
# machine with the postfix package; the tests only read the results. The
# configuration directory is written as @CONFIG_DIR@, and values that
# depend on the machine (the defaults of myhostname, mydomain, mynetworks,
# and process_id) as @MACHINE@, so the files do not depend on where they
# were recorded.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
postconf=${POSTCONF:-/usr/sbin/postconf}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir "$work/empty" "$work/real"
: >"$work/empty/main.cf"
: >"$work/empty/master.cf"
cp "$here/main.cf" "$here/master.cf" "$work/real/"

machine='s/^\(myhostname\|mydomain\|mynetworks\|process_id\) = .*/\1 = @MACHINE@/'
pid='s/^process_id = .*/process_id = @MACHINE@/'
show() { # show NAME ARGS...: postconf ARGS on the real files into NAME.golden
	name=$1
	shift
	"$postconf" -c "$work/real" "$@" 2>/dev/null |
		sed "s|$work/real|@CONFIG_DIR@|g; $pid" >"$here/$name.golden"
}

"$postconf" -c "$work/empty" -d 2>/dev/null | sed "$machine" >"$here/../postconf-d.txt"
# Parameters that exist only because of the services in master.cf.
"$postconf" -c "$work/real" -d 2>/dev/null | sed "$machine" |
	grep -vxF -f "$here/../postconf-d.txt" >"$here/derived.golden"
# The same for a master.cf with one service of each kind of command.
mkdir "$work/commands"
: >"$work/commands/main.cf"
cp "$here/master-commands.cf" "$work/commands/master.cf"
"$postconf" -c "$work/commands" -d 2>/dev/null | sed "$machine" |
	grep -vxF -f "$here/../postconf-d.txt" >"$here/derived-commands.golden"

show all
show n -n
show nf -nf
show nh -nh
show nH -nH
show names myorigin mydestination relay_destination_concurrency_limit \
	mua_client_restrictions tickets_time_limit
show x -x myorigin mydestination mynetworks smtpd_recipient_restrictions
show dx -dx address_verify_default_transport smtpd_relay_restrictions \
	mynetworks_style local_recipient_maps
show M -M
show Mf -Mf
show M-smtp -M smtp
show M-select -M smtp/inet 'relay/*' tickets
show F -F
show Ff -Ff
show F-select -F smtp/inet/chroot 'pickup/*/wakeup' tickets/unix/command
show P -P
show P-select -P submission/inet/syslog_name 'relay/unix/*'
show Px -Px
show Mx -Mx relay

edit() { # edit NAME ARGS...: main.cf after postconf ARGS into NAME.golden
	name=$1
	shift
	cp "$here/main.cf" "$work/real/main.cf"
	"$postconf" -c "$work/real" "$@" 2>/dev/null
	cp "$work/real/main.cf" "$here/$name.golden"
}
edit edit-e -e 'mynetworks = 127.0.0.0/8' 'relayhost=[smtp.example.net]:587' \
	'mydestination=$myhostname' smtpd_tls_auth_only=yes 'delay_warning_time = 4h'
edit edit-X -X mynetworks smtpd_recipient_restrictions no_such_parameter
edit edit-comment -# mydestination mynetworks relayhost
