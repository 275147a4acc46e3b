// Parses HL7 v2 messages (ER7 files, one message each; MLLP framing bytes are stripped) with an
// independent parser, @medplum/core's Hl7Message, and prints a JSON array with what the tests
// check: message type, version, control id, PID-3 (id, assigning authority's universal id and
// its type), OBR-3/-4/-25 and each OBX (type, code, coding system, value, status). Values are
// unescaped here (\F\ \S\ \T\ \R\ \E\ \X0D\ \X0A\), after medplum split the fields and components:
// a value whose separators were not escaped would have been split and would not come back whole.
// Usage: node tests/hl7/parse.mjs FILE...
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../../package.json'));
const { Hl7Message } = await import(require.resolve('@medplum/core'));

const unescape = (s) =>
  s.replace(/\\(F|S|T|R|E|X0D|X0A)\\/g, (_, c) =>
    ({ F: '|', S: '^', T: '&', R: '~', E: '\\', X0D: '\r', X0A: '\n' })[c]);

const field = (seg, n) => seg.getField(n)?.toString() ?? '';
const out = [];
for (const file of process.argv.slice(2)) {
  let text = readFileSync(file, 'latin1').replace(/^\x0b/, '').replace(/\x1c\r?$/, '');
  const msg = Hl7Message.parse(text);
  const msh = msg.getSegment('MSH');
  const pid = msg.getSegment('PID');
  const obr = msg.getSegment('OBR');
  const pid3 = pid.getField(3).components[0];
  const authority = (pid3[3] ?? '').split('&');
  out.push({
    file,
    type: `${msh.getComponent(9, 1)}^${msh.getComponent(9, 2)}`,
    version: field(msh, 12),
    control: field(msh, 10),
    segments: msg.segments.map((s) => s.name).filter(Boolean),
    pid3: {
      id: unescape(pid3[0]),
      namespace: unescape(authority[0] ?? ''),
      universal: unescape(authority[1] ?? ''),
      kind: authority[2] ?? '',
      type: pid3[4] ?? '',
    },
    obr3: unescape(obr.getComponent(3, 1)),
    obr4: obr.getComponent(4, 1),
    obr25: field(obr, 25),
    obx: msg.segments
      .filter((s) => s.name === 'OBX')
      .map((s) => ({
        type: field(s, 2),
        code: unescape(s.getComponent(3, 1)),
        system: s.getComponent(3, 3),
        value: unescape(s.getComponent(5, 1)),
        value_text: unescape(s.getComponent(5, 2)),
        sn: field(s, 2) === 'SN' ? s.getField(5).components[0] : undefined,
        flag: field(s, 8),
        status: field(s, 11),
      })),
  });
}
console.log(JSON.stringify(out, null, 1));
