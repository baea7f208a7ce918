// The admin API's unix socket (HAProxy's `stats socket`): who may connect is decided by the
// file's owner, group and mode, so it must never exist, even for a moment, with wider
// permissions. It is bound under a temporary name in the same directory, given its mode and
// owner, and only then renamed into place (rename is atomic; the listening socket follows the
// inode). A stale socket left by a crashed run is replaced; a live one (another halb answering)
// is an error.
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface SocketOptions {
  path: string;
  mode: number;
  user?: string | number | undefined;
  group?: string | number | undefined;
}

/** Listens `server` on opts.path; resolves with the inode bound, for a close that removes only ours. */
export async function listenUnixSocket(server: net.Server, opts: SocketOptions): Promise<number> {
  await clearStale(opts.path);
  const uid = opts.user === undefined ? -1 : resolveId('passwd', opts.user);
  const gid = opts.group === undefined ? -1 : resolveId('group', opts.group);
  const temp = join(dirname(opts.path), `.${basename(opts.path)}.${process.pid}.tmp`);
  rmSync(temp, { force: true });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Until chmod, the temp name is only as reachable as the umask allows: owner-only. bind()
      // happens inside listen(), synchronously, so the process umask is changed only for it.
      const umask = process.umask(0o177);
      try {
        server.listen(temp, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(umask);
      }
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new Error(`admin socket ${opts.path}: cannot listen: ${code}${code === 'ENOENT' ? ` (the directory ${dirname(opts.path)} does not exist; systemd's RuntimeDirectory=halb makes /run/halb)` : ''}`, { cause: err });
  }
  try {
    if (uid !== -1 || gid !== -1) chownSync(temp, uid, gid);
    chmodSync(temp, opts.mode);
    renameSync(temp, opts.path);
  } catch (err) {
    rmSync(temp, { force: true });
    await new Promise<void>((r) => server.close(() => r()));
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new Error(`admin socket ${opts.path}: cannot set owner/mode: ${code}${code === 'EPERM' ? ' (changing the owner needs root or CAP_CHOWN; a group you are a member of needs neither)' : ''}`, { cause: err });
  }
  return lstatSync(opts.path).ino;
}

/** Removes the socket file if it is still the one we bound (a restarted halb may own the path now). */
export function removeUnixSocket(path: string, ino: number): void {
  try {
    if (lstatSync(path).ino === ino) rmSync(path, { force: true });
  } catch {
    // already gone
  }
}

async function clearStale(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`admin socket ${path}: exists and is not a socket; halb does not remove it`);
  const live = await new Promise<boolean>((resolve) => {
    const c = net.connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new Error(`admin socket ${path}: another process is listening on it (a halb already running?)`);
  rmSync(path, { force: true });
}

/** A user or group name to its id, through NSS (getent), so LDAP/sssd users work too. */
function resolveId(db: 'passwd' | 'group', name: string | number): number {
  if (typeof name === 'number') return name;
  if (/^\d+$/.test(name)) return Number(name);
  let line: string;
  try {
    line = execFileSync('getent', [db, name], { encoding: 'utf8' });
  } catch {
    throw new Error(`admin socket: no ${db === 'passwd' ? 'user' : 'group'} named "${name}" on this host`);
  }
  const id = Number(line.split(':')[2]);
  if (!Number.isInteger(id)) throw new Error(`admin socket: getent ${db} ${name} gave no id`);
  return id;
}
