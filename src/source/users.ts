// uid -> user name from /etc/passwd, read once and cached (the table asks per row).
import * as fs from 'node:fs';

export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    const uid = Number(fields[2]);
    if (fields.length >= 3 && fields[0] !== '' && Number.isInteger(uid) && !names.has(uid)) names.set(uid, fields[0]);
  }
  return names;
}

export function userNames(file = '/etc/passwd'): (uid: number) => string {
  let names: Map<number, string>;
  try {
    names = parsePasswd(fs.readFileSync(file, 'utf8'));
  } catch {
    names = new Map(); // unreadable passwd: show numbers, as ps does
  }
  return (uid) => names.get(uid) ?? String(uid);
}
