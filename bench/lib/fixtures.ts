// Definitions and values the measures use, generated deterministically.
import type { AppDefinitions, NormalizedDefinitions, SettingDefinition } from '../../common/definitions';
import { normalizeDefinitions } from '../../common/definitions';

const TYPES = ['Text', 'Integer', 'Boolean', 'Decimal', 'Email', 'Date', 'DateTime', 'LongInteger', 'Time', 'PhoneNumber', 'Currency'] as const;

/** A value valid for `type`, varied by i. */
export function sampleValue(type: string, i: number): string {
  switch (type) {
    case 'Integer':
      return String((i * 37) % 100000);
    case 'LongInteger':
      return String(9_000_000_000 + i);
    case 'Boolean':
      return i % 2 ? 'True' : 'False';
    case 'Decimal':
    case 'Currency':
      return `${i % 1000}.${String(i % 100).padStart(2, '0')}`;
    case 'Email':
      return `user${i}@example.com`;
    case 'Date':
      return `2025-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`;
    case 'Time':
      return `${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00`;
    case 'DateTime':
      return `2025-01-${String((i % 28) + 1).padStart(2, '0')}T10:00:00Z`;
    case 'PhoneNumber':
      return `+1 555 ${String(1000 + (i % 9000))}`;
    default:
      return `value-${i}-${'x'.repeat(i % 17)}`;
  }
}

/** A secret-looking value (an API key) for setting i. */
export function secretValue(i: number, salt = 'bench'): string {
  return `sk_${salt}_${i.toString(36).padStart(6, '0')}_${'k'.repeat(24)}`;
}

/**
 * `count` settings, every `secretEvery`-th one secret (no default), the others with a default.
 * Names are Setting00001..., so they sort and stay unique ignoring case.
 */
export function definitions(appKey: string, count: number, secretEvery: number, o: { descriptions?: boolean } = {}): AppDefinitions {
  const settings: SettingDefinition[] = [];
  for (let i = 0; i < count; i++) {
    const isSecret = secretEvery > 0 && i % secretEvery === secretEvery - 1;
    const type = isSecret ? 'Text' : TYPES[i % TYPES.length]!;
    const s: SettingDefinition = { name: `Setting${String(i + 1).padStart(5, '0')}`, type };
    if (o.descriptions !== false) s.description = `Setting number ${i + 1} of ${appKey}`;
    if (isSecret) s.isSecret = true;
    else s.defaultValue = sampleValue(type, i + 7);
    settings.push(s);
  }
  return { app: { key: appKey, name: `Bench ${appKey}` }, settings };
}

export function normalized(doc: AppDefinitions): NormalizedDefinitions {
  return normalizeDefinitions(doc);
}

/** The PATCH changes that give every setting of `doc` a value (first write: baseVersion 0). */
export function allValues(doc: AppDefinitions, salt: string): Array<{ name: string; value: string; baseVersion: number }> {
  return doc.settings.map((s, i) => ({ name: s.name, value: s.isSecret ? secretValue(i, salt) : sampleValue(s.type, i), baseVersion: 0 }));
}
