import pkcs11js from 'pkcs11js';
import { CustodianUnavailableError } from '@keyledger/custody';
import { CKR, ckrOf, custodyErrorOf, isSessionLost } from './pkcs11-errors.js';

type Handle = pkcs11js.Handle;

/**
 * Logged-in read/write sessions to one token. A PKCS#11 session runs one operation at a time,
 * so each caller borrows a session of its own: up to `size` token calls run in parallel (the
 * async pkcs11js calls run on libuv's thread pool), the rest wait their turn.
 *
 * Recovery: when a call fails because its session (or the login) is gone — the token was
 * reset, sessions were closed under us — the session is dropped, a fresh one is opened and
 * logged in, and the call runs once more. A second loss answers CustodianUnavailableError.
 */
export class SessionPool {
  private readonly idle: Handle[] = [];
  private readonly waiting: Array<{ resolve: (session: Handle) => void; reject: (error: unknown) => void }> = [];
  private opened = 0;
  private closed = false;

  constructor(
    private readonly module: pkcs11js.PKCS11,
    private readonly slot: Handle,
    private readonly pin: string,
    private readonly size: number,
  ) {}

  async withSession<T>(work: (session: Handle) => Promise<T> | T): Promise<T> {
    try {
      return await this.attempt(work);
    } catch (error) {
      if (!isSessionLost(error)) throw error;
      try {
        return await this.attempt(work);
      } catch (again) {
        if (isSessionLost(again)) throw new CustodianUnavailableError(`PKCS#11 token unavailable: ${custodyErrorOf(again, 'session').message}`);
        throw again;
      }
    }
  }

  /** Sessions currently open (idle or lent). */
  get openSessions(): number {
    return this.opened;
  }

  close(): void {
    this.closed = true;
    for (const session of this.idle.splice(0)) this.closeQuietly(session);
    for (const waiter of this.waiting.splice(0)) waiter.reject(new CustodianUnavailableError('The PKCS#11 custodian is closed'));
    this.opened = 0;
  }

  private async attempt<T>(work: (session: Handle) => Promise<T> | T): Promise<T> {
    const session = await this.acquire();
    try {
      const result = await work(session);
      this.release(session);
      return result;
    } catch (error) {
      if (isSessionLost(error)) this.discard(session);
      else this.release(session);
      throw error;
    }
  }

  private async acquire(): Promise<Handle> {
    if (this.closed) throw new CustodianUnavailableError('The PKCS#11 custodian is closed');
    const idle = this.idle.pop();
    if (idle !== undefined) return idle;
    if (this.opened < this.size) return this.openSession();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(session: Handle): void {
    if (this.closed) return this.closeQuietly(session);
    const next = this.waiting.shift();
    if (next) next.resolve(session);
    else this.idle.push(session);
  }

  /** Drops a dead session; whoever waits gets a fresh one instead (or the reason there is none). */
  private discard(session: Handle): void {
    this.closeQuietly(session);
    this.opened -= 1;
    const next = this.waiting.shift();
    if (!next) return;
    try {
      next.resolve(this.openSession());
    } catch (error) {
      next.reject(error);
    }
  }

  private openSession(): Handle {
    this.opened += 1;
    try {
      const session = this.module.C_OpenSession(this.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      this.login(session);
      return session;
    } catch (error) {
      this.opened -= 1;
      throw custodyErrorOf(error, 'C_OpenSession/C_Login');
    }
  }

  /** Login is per application, not per session: a second login answers "already logged in". */
  private login(session: Handle): void {
    try {
      this.module.C_Login(session, pkcs11js.CKU_USER, this.pin);
    } catch (error) {
      if (ckrOf(error) === CKR.USER_ALREADY_LOGGED_IN) return;
      this.closeQuietly(session);
      throw error;
    }
  }

  private closeQuietly(session: Handle): void {
    try {
      this.module.C_CloseSession(session);
    } catch {
      // already closed by the token: nothing left to release
    }
  }
}
