import { asProjectedEvent } from '../events.js';
import type { Projection } from '../runner/projection.js';
import { subjectIdOf, subjectOpenedBy, toAuditEntry, type AuditSubject } from './audit-entry.js';

/** The 164.312(b) view: every event becomes one entry, approvals and ceremonies tied to their key. */
export const auditProjection: Projection = {
  name: 'audit',
  async project(events, storage) {
    const subjects = await storage.audit.subjects(events.flatMap((event) => subjectIdOf(event) ?? []));
    const opened: AuditSubject[] = [];
    const entries = events.map((recorded) => {
      const event = asProjectedEvent(recorded);
      const subject = event ? subjectOpenedBy(event) : null;
      if (subject) {
        subjects.set(subject.subjectId, subject);
        opened.push(subject);
      }
      return toAuditEntry(recorded, subjects);
    });
    return { projection: 'audit', entries, subjects: opened };
  },
};
