#!/bin/sh
# run.sh - `make run`: a ready-to-use unprivileged instance under ./run/,
# in the foreground on 127.0.0.1:2525, with the virtual domain example.test
# and the mailboxes alice@ and bob@ (Maildirs under run/mail/). Ctrl-C stops
# it cleanly. Everything runs as the invoking user; started by root, the
# daemons run as the system user "postern" (created if missing), since
# mail_owner may never be root.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
run=${RUN_DIR:-$top/run}
port=${PORT:-2525}
sbin=$top/$build/sbin

mkdir -p "$run/etc" "$run/queue" "$run/data" "$run/mail"
if [ "$(id -u)" = 0 ]; then
	user=${RUN_USER:-postern}
	getent passwd "$user" >/dev/null ||
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin --user-group "$user"
	group=$(id -gn "$user")
	chown "$user:$group" "$run/mail"
else
	user=$(id -un)
	group=$(id -gn)
fi
uid=$(id -u "$user")
gid=$(id -g "$user")
cat > "$run/etc/main.cf" <<EOC
# Written by scripts/run.sh for the demo instance; edit freely.
compatibility_level = 3.6
queue_directory = $run/queue
data_directory = $run/data
command_directory = $top/$build/sbin
daemon_directory = $top/$build/libexec
mail_owner = $user
setgid_group = $group
maillog_file = $run/maillog
maillog_file_prefixes = $run
myhostname = mail.example.test
mydestination = localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
local_recipient_maps =
virtual_mailbox_domains = example.test
virtual_mailbox_base = $run/mail
virtual_mailbox_maps = texthash:$run/etc/vmailbox
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_minimum_uid = 0
EOC
cat > "$run/etc/vmailbox" <<EOC
alice@example.test  example.test/alice/
bob@example.test    example.test/bob/
EOC
sed "s/^smtp      inet/127.0.0.1:$port inet/" "$top/conf/master.cf" \
	> "$run/etc/master.cf"

stop() {
	if "$sbin/postfix" -c "$run/etc" status >/dev/null 2>&1; then
		"$sbin/postfix" -c "$run/etc" stop >/dev/null 2>&1 || true
	fi
}
stop
cat <<EOM
Postern is starting on 127.0.0.1:$port (config in run/etc/, log in run/maillog).
Send it a message:
  swaks --server 127.0.0.1:$port --to alice@example.test --from you@example.org
  python3 -c 'import smtplib; smtplib.SMTP("127.0.0.1", $port).sendmail("you@example.org", ["bob@example.test"], "Subject: hi\n\nhello\n")'
It lands in $run/mail/example.test/alice/new/ (or bob/).
See the queue with: $build/sbin/postqueue -c $run/etc -p
Press Ctrl-C to stop.
EOM
trap stop INT TERM
"$sbin/postfix" -c "$run/etc" start-fg &
wait $! || true
stop
