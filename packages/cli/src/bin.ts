#!/usr/bin/env node
import { ExitCode } from './io.js';
import { main } from './main.js';

// A reader that goes away early (`bitnet tokenize - | head -1`) closes the pipe: stop writing and exit
// quietly, as other command-line tools do, instead of dying on an unhandled EPIPE with a stack trace.
// Exit code 0: the reader chose to stop reading, the command did not fail.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.ok);
    throw error;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bitnet: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = ExitCode.failure;
  },
);
