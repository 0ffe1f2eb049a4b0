import { TESSERACT_DATA_LANGUAGES } from './tesseract-languages';
import { bundledImageLanguageProblem, bundledImageLanguages, bundledWorkerLanguages } from './worker-image';

describe('TESSERACT_DATA_LANGUAGES', () => {
  test('GIVEN the list WHEN read THEN it has the @tesseract.js-data packages of common languages and scripts, once each, as tesseract codes', () => {
    for (const code of ['eng', 'deu', 'fra', 'spa', 'chi_sim', 'chi_tra', 'jpn', 'ara', 'rus', 'aze_cyrl', 'yor']) expect(TESSERACT_DATA_LANGUAGES).toContain(code);
    // codes tesseract has no @tesseract.js-data package for, and names that are not codes
    for (const code of ['ger', 'english', 'en', 'kmr']) expect(TESSERACT_DATA_LANGUAGES).not.toContain(code);
    expect(new Set(TESSERACT_DATA_LANGUAGES).size).toBe(TESSERACT_DATA_LANGUAGES.length);
    expect([...TESSERACT_DATA_LANGUAGES].sort()).toEqual(TESSERACT_DATA_LANGUAGES);
    for (const code of TESSERACT_DATA_LANGUAGES) expect(code).toMatch(/^[a-z]{3}(_[a-z]+)*$/);
    expect(TESSERACT_DATA_LANGUAGES.length).toBe(130);
    // the worker's own languages are among them
    for (const code of bundledWorkerLanguages()) expect(TESSERACT_DATA_LANGUAGES).toContain(code);
  });

  test('GIVEN languages WHEN the bundled image is built for them THEN it holds them and eng, sorted once each; unknown codes are named', () => {
    expect(bundledImageLanguages()).toEqual(['eng']);
    expect(bundledImageLanguages(['deu', 'eng', 'deu'])).toEqual(['deu', 'eng']);
    expect(bundledImageLanguageProblem(['eng', 'deu', 'chi_sim'], "an 'image'")).toBeNull();
    expect(bundledImageLanguageProblem(['eng', 'ger', 'english'], "an 'image'")).toMatch(/^lists 'ger', 'english', for which no tesseract language data package exists/);
  });
});
