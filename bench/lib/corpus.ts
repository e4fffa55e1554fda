// What the IMAP benchmarks fill their boxes with: French clinical words and a deterministic
// pseudo-random generator, so that every run stores the same mailbox.
export const WORDS = (
  'patient consultation examen clinique bilan sanguin créatinine hémoglobine ordonnance traitement suivi cabinet ' +
  'radiographie thorax échographie abdominale compte rendu hospitalisation sortie rendez-vous contrôle résultats ' +
  'allergie antécédents tension artérielle fréquence cardiaque glycémie cholestérol vaccin rappel médecin traitant'
).split(' ');

/** A linear congruential generator in [0, 1): the same seed gives the same sequence. */
export function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
