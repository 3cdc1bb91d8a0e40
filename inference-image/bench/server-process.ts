import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', 'src', 'main.js');

/** Starts the compiled server as its own process and resolves once it is warm; its logs are then drained unread. */
export async function startServer(env: Record<string, string>): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', DEVICE: 'cpu', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    let port = 0;
    const onData = (c: Buffer) => {
      buf += c.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const entry = JSON.parse(buf.slice(0, nl)) as { msg: string; address?: string };
        buf = buf.slice(nl + 1);
        if (entry.msg === 'listening') port = Number(new URL(entry.address!).port);
        if (entry.msg.startsWith('warm-up inference done')) {
          // The server still writes its request lines; the load generator need not parse them.
          proc.stdout!.off('data', onData);
          proc.stdout!.resume();
          resolve(port);
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { proc, port };
}

export async function stopServer(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
}

/** A /proc/<pid>/status field in bytes (VmRSS: resident now; VmHWM: the peak). Linux only. */
export function procBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  if (!line) throw new Error(`${field} not in /proc/${pid}/status`);
  return Number(line.split(/\s+/)[1]) * 1024;
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

export function quantile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
