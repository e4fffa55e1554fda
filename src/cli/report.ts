// `mssd report monthly --month YYYY-MM`: the operator's monthly activity indicators (counts only).
import type { Command } from 'commander';
import { monthlyReport, parseMonth, reportCsv, reportText } from '../report/monthly';
import { CliError } from './context';
import { type WithContext } from './with-context';

export function registerReportCommands(program: Command, withContext: WithContext): void {
  const report = program.command('report').description('activity reports for ANS (counts only)');
  report
    .command('monthly')
    .description('messages, boxes, connections and notices of one month (schedules.timezone)')
    .requiredOption('--month <YYYY-MM>', 'the month, e.g. 2026-11')
    .option('--csv', 'one CSV row per figure: section,key1,key2,key3,count')
    .action(
      withContext((ctx, opts) => {
        const month = parseMonth(String(opts.month));
        if (!month) throw new CliError(`invalid --month '${String(opts.month)}': expected YYYY-MM, e.g. 2026-11`);
        const result = monthlyReport(ctx.db, month[0], month[1], {
          timeZone: ctx.config.schedules.timezone,
          patientDomain: ctx.config.trustSpace.patientDomain,
        });
        if (opts.csv === true && !ctx.json) {
          process.stdout.write(reportCsv(result));
          return;
        }
        ctx.print(result, reportText(result));
      }),
    );
}
