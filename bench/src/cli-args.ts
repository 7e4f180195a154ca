/**
 * The command line after the script, without the `--` that `pnpm bench -- --runs 5` passes on
 * (pnpm 12 hands it to the script; node's parseArgs would then read every flag as a positional).
 */
export function cliArgs(argv: readonly string[] = process.argv.slice(2)): string[] {
  return argv[0] === '--' ? argv.slice(1) : [...argv];
}
