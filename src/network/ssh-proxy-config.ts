import { createHash } from 'node:crypto';
import { join } from 'node:path';

/**
 * SSH through the egress proxy. ssh has no HTTP proxy support of its own, so in mino images
 * (Debian's ssh reads `/etc/ssh/ssh_config.d/*.conf`) mino mounts a read-only config whose
 * `ProxyCommand` opens a CONNECT tunnel to the destination through the session's proxy with
 * bash's `/dev/tcp` (no program needed in the image). `git clone git@github.com:…` and `ssh`
 * then work for any allowed `host:22`; a user's own `~/.ssh/config` still wins (ssh takes the
 * first value it finds). The config has no `%` character (ssh expands those) and hands the host
 * and port to bash as arguments, never as code.
 */

/** Where the config is mounted in the container. */
export const SSH_CONFIG_TARGET = '/etc/ssh/ssh_config.d/mino-egress.conf';

/** The ProxyCommand script (bash; `$1` host, `$2` port, the proxy on `port`). */
function connectScript(port: number): string {
  return [
    `exec 3<>/dev/tcp/127.0.0.1/${port} || exit 1`,
    'echo -ne "CONNECT $1:$2 HTTP/1.1\\r\\nHost: $1:$2\\r\\n\\r\\n" >&3',
    'IFS= read -r status <&3',
    'status=$(echo "$status" | tr -d "\\r")',
    'case "$status" in "HTTP/1."?" 200"*) ;; *) echo "mino: ssh to $1:$2 through the egress proxy: $status" >&2; tr -d "\\r" <&3 >&2; exit 1;; esac',
    'while IFS= read -r line <&3; do [ -z "$(echo "$line" | tr -d "\\r")" ] && break; done',
    'cat <&3 & cat >&3',
  ].join('; ');
}

/** The ssh client configuration. */
export function sshProxyConfig(port: number): string {
  return [
    "# Written by mino: ssh (and git over ssh) go through the session's egress proxy.",
    'Host *',
    `    ProxyCommand /bin/bash -c '${connectScript(port)}' mino-egress-ssh %h %p`,
    '',
  ].join('\n');
}

/** The host file holding the config for `port`: content-addressed, under the egress base. */
export function sshProxyConfigPath(base: string, port: number): string {
  const hash = createHash('sha256').update(sshProxyConfig(port)).digest('hex').slice(0, 12);
  return join(base, `ssh-config-${hash}.conf`);
}
