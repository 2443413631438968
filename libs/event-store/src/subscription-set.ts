import type { Subscription } from './port.js';

/** The subscriptions an adapter has handed out, so that closing the store closes them all. */
export class SubscriptionSet {
  private readonly open = new Set<Subscription>();

  track(subscription: Subscription): Subscription {
    const tracked: Subscription = {
      close: async () => {
        this.open.delete(tracked);
        await subscription.close();
      },
    };
    this.open.add(tracked);
    return tracked;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((subscription) => subscription.close()));
  }
}
