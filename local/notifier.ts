import type { DeliveryNotifier } from '../core/reader/pipeline.js';

/** The local server's delivery notifier: the webhook route calls `notify` after each 202, open streams look at once. */
export class LocalNotifier implements DeliveryNotifier {
  readonly #listeners = new Set<() => void>();

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
