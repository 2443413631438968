/**
 * Read models are disposable: they can always be rebuilt from the log. So their tables are not
 * migrated: when this number changes (a new column, or a projection that now projects
 * differently), every adapter drops its read-model tables and recreates them empty at position 0
 * on start, and the runners rebuild them from the log.
 */
export const READ_MODEL_SCHEMA_VERSION = 2;
