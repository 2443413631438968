import { asProjectedEvent, isKeyLifecycleEvent, type ProjectedEvent } from '../events.js';
import type { Projection } from '../runner/projection.js';
import { evolveComplianceKey, factOf, type ComplianceFact } from './compliance-facts.js';

/** The key a fact-bearing event is about, if any. */
const keyIdOf = (event: ProjectedEvent): string | null =>
  isKeyLifecycleEvent(event) || event.type === 'KeyUseDenied' ? event.data.keyId : null;

/** Compliance facts: each key's state over time, denied uses judged by it, closed ceremonies. */
export const complianceProjection: Projection = {
  name: 'compliance',
  async project(events, storage) {
    const known = events.flatMap((recorded) => asProjectedEvent(recorded) ?? []);
    const documents = await storage.compliance.keys(known.flatMap((event) => keyIdOf(event) ?? []));
    const touched = new Set<string>();
    const facts: ComplianceFact[] = [];
    for (const event of known) {
      if (isKeyLifecycleEvent(event)) {
        documents.set(event.data.keyId, evolveComplianceKey(documents.get(event.data.keyId) ?? null, event));
        touched.add(event.data.keyId);
        continue;
      }
      const keyId = keyIdOf(event);
      const fact = factOf(event, keyId === null ? null : (documents.get(keyId) ?? null));
      if (fact) facts.push(fact);
    }
    return { projection: 'compliance', keys: [...touched].map((keyId) => documents.get(keyId)!), facts };
  },
};
