/** The user settings' keys, in the schema's order (config.ts checks they match); light, for help text. */
export const CONFIG_KEYS = ['stateDir', 'playbookDirs', 'processes', 'concurrency', 'pwsh'] as const;
