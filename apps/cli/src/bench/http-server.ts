import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface BenchServer {
  readonly url: string;
  readonly token: string;
  stop(): Promise<void>;
}

/** The engine as users run it: `keyledger serve` in a process of its own, load from this one. */
export const startBenchServer = async (home: string, env: Record<string, string>): Promise<BenchServer> => {
  const token = `klt_bench_${Date.now().toString(36)}_${'b'.repeat(24)}`;
  const child: ChildProcess = spawn(process.execPath, [join(home, 'bin', 'keyledger.js'), 'serve'], {
    env: { ...process.env, KEYLEDGER_PORT: '0', KEYLEDGER_LOG_LEVEL: 'error', KEYLEDGER_ADMIN_TOKEN: token, KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS: '0', KEYLEDGER_SCHEDULER_INTERVAL_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`keyledger serve exited with ${code}`)));
  });
  return {
    url,
    token,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
};

export class BenchClient {
  constructor(private readonly server: BenchServer) {}

  async post<T = any>(path: string, body: unknown = {}): Promise<T> {
    const res = await fetch(this.server.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as T & { code?: string; detail?: string };
    if (!res.ok) throw new Error(`${path}: ${res.status} ${answer.code ?? ''} ${answer.detail ?? ''}`);
    return answer;
  }

  async get(path: string, token: string | null = this.server.token): Promise<number> {
    const res = await fetch(this.server.url + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    await res.arrayBuffer();
    return res.status;
  }
}
