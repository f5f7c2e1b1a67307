/** The most hosts `rdpfix lab init` writes; apart from fleet.ts (which loads yaml) so help text can name it cheaply. */
export const MAX_LAB_HOSTS = 5000;
