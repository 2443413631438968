/** A PostgreSQL database of its own for one bench phase, dropped afterwards. */
export const withScratchDatabase = async <T>(serverUrl: string, work: (url: string) => Promise<T>): Promise<T> => {
  const { default: pg } = await import('pg');
  const name = `keyledger_bench_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return await work(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
};
