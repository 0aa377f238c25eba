import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { generateCertificates } from "../../certificates/generate.js";
import { serviceHosts, writeCertificateFiles } from "../../certificates/local.js";
import { ioOf, setExitCode } from "../context.js";
import { EXIT, UsageError } from "../errors.js";

interface CertsFlags {
  service: string;
  namespace: string;
  out: string;
  days: number;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function days(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < 1 || parsed > 3650) {
    throw new InvalidArgumentError("must be a whole number of days from 1 to 3650");
  }
  return parsed;
}

export function register(program: Command): void {
  program
    .command("certs")
    .description(
      "create a CA and a serving certificate for the webhook's Service and print the caBundle",
    )
    .option("--service <name>", "name of the webhook's Service", "tollgate")
    .option("--namespace <namespace>", "namespace of the Service", "tollgate-system")
    .option("--out <dir>", "directory for ca.crt, tls.crt and tls.key", "certs")
    .option("--days <days>", "how long the serving certificate is valid", days, 365)
    .addHelpText(
      "after",
      "\nThe base64 caBundle goes to standard output, everything else to standard error:\n" +
        "  CA_BUNDLE=$(tollgate certs --namespace tollgate-system)",
    )
    .action(async (flags: CertsFlags, command: Command) => {
      const io = ioOf(command);
      for (const [flag, value] of [
        ["--service", flags.service],
        ["--namespace", flags.namespace],
      ] as const) {
        if (!DNS_LABEL.test(value)) {
          throw new UsageError(`${flag} "${value}" is not a valid DNS label (a-z, 0-9 and -)`);
        }
      }
      const hosts = serviceHosts(flags.service, flags.namespace);
      const bundle = await generateCertificates({ hosts, validDays: flags.days });
      const directory = resolve(flags.out);
      const files = writeCertificateFiles(directory, bundle);
      const shown = (file: string) => relative(process.cwd(), file) || file;
      io.stderr(
        `tollgate: wrote ${shown(files.caFile)}, ${shown(files.certFile)} and ${shown(files.keyFile)}\n` +
          `tollgate: the certificate is for ${hosts.join(", ")} and valid until ${bundle.notAfter.toISOString()}\n` +
          `tollgate: caBundle for the webhook configurations (base64 of ${shown(files.caFile)}):\n`,
      );
      io.stdout(`${Buffer.from(readFileSync(files.caFile)).toString("base64")}\n`);
      setExitCode(command, EXIT.ok);
    });
}
