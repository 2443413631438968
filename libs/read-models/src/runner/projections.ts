import { auditProjection } from '../audit/audit-projection.js';
import { complianceProjection } from '../compliance/compliance-projection.js';
import { inventoryProjection } from '../inventory/inventory-projection.js';
import type { ProjectionName } from '../storage/port.js';
import type { Projection } from './projection.js';

export const PROJECTIONS: Readonly<Record<ProjectionName, Projection>> = {
  inventory: inventoryProjection,
  audit: auditProjection,
  compliance: complianceProjection,
};
