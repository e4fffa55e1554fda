// The store's and the password policy's refusals are one English line for the operator's CLI; the
// portal shows the same decisions in French, next to the field concerned. An unknown message is
// shown as is rather than hidden.

const FRENCH: Array<[RegExp, (m: RegExpMatchArray) => string]> = [
  [/^invalid forward target/, () => 'Adresse invalide : saisissez une adresse telle que nom@exemple.fr.'],
  [/is an address of this box/, () => 'Cette adresse est l’une des vôtres : une boîte ne peut pas se transférer ses propres messages.'],
  [/forwarding to a patient address/, () => 'Le transfert vers une adresse patient n’est pas autorisé (R4).'],
  [/a MED box may forward only to local boxes/, () => 'Une boîte MED ne peut transférer que vers les boîtes de l’opérateur (R2).'],
  [/^(\S+) is outside the MSSanté trust space/, (m) => `Le domaine ${m[1]} est hors de l’espace de confiance MSSanté (R1) : transfert refusé.`],
  [/already forwards to/, () => 'Ce transfert automatique existe déjà.'],
  [/does not forward to/, () => 'Ce transfert automatique n’existe pas (ou plus).'],
  [/is never published in the national directory/, () => 'Une boîte MED ou INT n’est jamais publiée dans l’annuaire national (R2).'],
  [/must end after it starts/, () => 'La date de fin doit être postérieure à la date de début.'],
  [/would end in the past/, () => 'La date de fin est déjà passée.'],
  [/invalid automatic reply dates/, () => 'Dates invalides.'],
  [/^subject is required/, () => 'L’objet est obligatoire.'],
  [/^invalid subject: control/, () => 'L’objet doit tenir sur une ligne.'],
  [/^invalid subject: at most (\d+)/, (m) => `L’objet ne doit pas dépasser ${m[1]} caractères.`],
  [/body is empty/, () => 'Le message est obligatoire.'],
  [/body is larger than (\d+) KiB/, (m) => `Le message ne doit pas dépasser ${m[1]} Kio.`],
  [/is already a member of/, () => 'Ce compte est déjà rattaché à cette boîte.'],
  [/only personal boxes/, () => 'Seuls les comptes personnels (PER, MED, INT) peuvent être rattachés.'],
  [/is not a member of/, () => 'Ce compte n’est pas rattaché à cette boîte.'],
  [/^no box has the address/, () => 'Aucun compte n’a cette adresse chez cet opérateur.'],
  [/a device needs a name/, () => 'Donnez un nom à l’appareil (par exemple « Téléphone » ou « Thunderbird cabinet »).'],
  [/a device name has at most (\d+)/, (m) => `Le nom de l’appareil ne doit pas dépasser ${m[1]} caractères.`],
  [/a device name cannot hold control/, () => 'Le nom de l’appareil doit tenir sur une ligne.'],
  [/already has a device named/, () => 'Un appareil porte déjà ce nom.'],
  [/a box has at most (\d+) devices/, (m) => `Une boîte a au plus ${m[1]} appareils : révoquez-en un d’abord.`],
  [/at least (\d+) characters/, (m) => `Le mot de passe doit contenir au moins ${m[1]} caractères.`],
  [/at most (\d+) characters long/, (m) => `Le mot de passe ne doit pas dépasser ${m[1]} caractères.`],
  [/control characters/, () => 'Le mot de passe ne doit pas contenir de caractères de contrôle.'],
  [/upper-case letter/, () => 'Le mot de passe doit contenir une majuscule.'],
  [/lower-case letter/, () => 'Le mot de passe doit contenir une minuscule.'],
  [/a digit/, () => 'Le mot de passe doit contenir un chiffre.'],
  [/special character/, () => 'Le mot de passe doit contenir un caractère spécial.'],
];

export function inFrench(message: string): string {
  for (const [pattern, say] of FRENCH) {
    const match = message.match(pattern);
    if (match) return say(match);
  }
  return `Refusé : ${message}`;
}
