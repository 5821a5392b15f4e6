/**
 * Country and state normalization for ShipStation's ShipTo: `Country` must be exactly the two-letter
 * ISO 3166-1 alpha-2 code, and `State` a two-letter code for the US and Canada. POS systems often hold names
 * ("United States", "Québec"), so names are mapped here; anything unknown stays unknown (the order is held).
 */

// ISO 3166-1 alpha-2 code, official short name, then common aliases, separated by "|".
const table = `AD|Andorra
AE|United Arab Emirates|UAE
AF|Afghanistan
AG|Antigua and Barbuda
AI|Anguilla
AL|Albania
AM|Armenia
AO|Angola
AQ|Antarctica
AR|Argentina
AS|American Samoa
AT|Austria
AU|Australia
AW|Aruba
AX|Åland Islands|Aland Islands
AZ|Azerbaijan
BA|Bosnia and Herzegovina|Bosnia
BB|Barbados
BD|Bangladesh
BE|Belgium
BF|Burkina Faso
BG|Bulgaria
BH|Bahrain
BI|Burundi
BJ|Benin
BL|Saint Barthélemy|Saint Barthelemy|St Barthelemy
BM|Bermuda
BN|Brunei Darussalam|Brunei
BO|Bolivia|Bolivia, Plurinational State of
BQ|Bonaire, Sint Eustatius and Saba|Caribbean Netherlands
BR|Brazil|Brasil
BS|Bahamas|The Bahamas
BT|Bhutan
BV|Bouvet Island
BW|Botswana
BY|Belarus
BZ|Belize
CA|Canada
CC|Cocos (Keeling) Islands|Cocos Islands
CD|Congo, Democratic Republic of the|Democratic Republic of the Congo|DR Congo|DRC
CF|Central African Republic
CG|Congo|Republic of the Congo|Congo-Brazzaville
CH|Switzerland|Schweiz|Suisse|Svizzera
CI|Côte d'Ivoire|Cote d'Ivoire|Ivory Coast
CK|Cook Islands
CL|Chile
CM|Cameroon
CN|China|People's Republic of China|PRC
CO|Colombia
CR|Costa Rica
CU|Cuba
CV|Cabo Verde|Cape Verde
CW|Curaçao|Curacao
CX|Christmas Island
CY|Cyprus
CZ|Czechia|Czech Republic
DE|Germany|Deutschland
DJ|Djibouti
DK|Denmark|Danmark
DM|Dominica
DO|Dominican Republic
DZ|Algeria
EC|Ecuador
EE|Estonia
EG|Egypt
EH|Western Sahara
ER|Eritrea
ES|Spain|España|Espana
ET|Ethiopia
FI|Finland|Suomi
FJ|Fiji
FK|Falkland Islands|Falkland Islands (Malvinas)
FM|Micronesia|Micronesia, Federated States of
FO|Faroe Islands
FR|France
GA|Gabon
GB|United Kingdom|United Kingdom of Great Britain and Northern Ireland|UK|Great Britain|Britain|England|Scotland|Wales|Northern Ireland
GD|Grenada
GE|Georgia
GF|French Guiana
GG|Guernsey
GH|Ghana
GI|Gibraltar
GL|Greenland
GM|Gambia|The Gambia
GN|Guinea
GP|Guadeloupe
GQ|Equatorial Guinea
GR|Greece
GS|South Georgia and the South Sandwich Islands
GT|Guatemala
GU|Guam
GW|Guinea-Bissau
GY|Guyana
HK|Hong Kong
HM|Heard Island and McDonald Islands
HN|Honduras
HR|Croatia|Hrvatska
HT|Haiti
HU|Hungary
ID|Indonesia
IE|Ireland|Republic of Ireland|Eire
IL|Israel
IM|Isle of Man
IN|India
IO|British Indian Ocean Territory
IQ|Iraq
IR|Iran|Iran, Islamic Republic of
IS|Iceland
IT|Italy|Italia
JE|Jersey
JM|Jamaica
JO|Jordan
JP|Japan
KE|Kenya
KG|Kyrgyzstan
KH|Cambodia
KI|Kiribati
KM|Comoros
KN|Saint Kitts and Nevis|St Kitts and Nevis
KP|North Korea|Korea, Democratic People's Republic of
KR|South Korea|Korea, Republic of|Korea|Republic of Korea
KW|Kuwait
KY|Cayman Islands
KZ|Kazakhstan
LA|Laos|Lao People's Democratic Republic
LB|Lebanon
LC|Saint Lucia|St Lucia
LI|Liechtenstein
LK|Sri Lanka
LR|Liberia
LS|Lesotho
LT|Lithuania
LU|Luxembourg
LV|Latvia
LY|Libya
MA|Morocco
MC|Monaco
MD|Moldova|Moldova, Republic of
ME|Montenegro
MF|Saint Martin (French part)|Saint Martin
MG|Madagascar
MH|Marshall Islands
MK|North Macedonia|Macedonia
ML|Mali
MM|Myanmar|Burma
MN|Mongolia
MO|Macao|Macau
MP|Northern Mariana Islands
MQ|Martinique
MR|Mauritania
MS|Montserrat
MT|Malta
MU|Mauritius
MV|Maldives
MW|Malawi
MX|Mexico|México
MY|Malaysia
MZ|Mozambique
NA|Namibia
NC|New Caledonia
NE|Niger
NF|Norfolk Island
NG|Nigeria
NI|Nicaragua
NL|Netherlands|The Netherlands|Holland|Nederland
NO|Norway|Norge
NP|Nepal
NR|Nauru
NU|Niue
NZ|New Zealand
OM|Oman
PA|Panama
PE|Peru
PF|French Polynesia
PG|Papua New Guinea
PH|Philippines
PK|Pakistan
PL|Poland|Polska
PM|Saint Pierre and Miquelon
PN|Pitcairn
PR|Puerto Rico
PS|Palestine|Palestine, State of
PT|Portugal
PW|Palau
PY|Paraguay
QA|Qatar
RE|Réunion|Reunion
RO|Romania
RS|Serbia
RU|Russia|Russian Federation
RW|Rwanda
SA|Saudi Arabia
SB|Solomon Islands
SC|Seychelles
SD|Sudan
SE|Sweden|Sverige
SG|Singapore
SH|Saint Helena, Ascension and Tristan da Cunha|Saint Helena
SI|Slovenia
SJ|Svalbard and Jan Mayen
SK|Slovakia
SL|Sierra Leone
SM|San Marino
SN|Senegal
SO|Somalia
SR|Suriname
SS|South Sudan
ST|Sao Tome and Principe|São Tomé and Príncipe
SV|El Salvador
SX|Sint Maarten (Dutch part)|Sint Maarten
SY|Syria|Syrian Arab Republic
SZ|Eswatini|Swaziland
TC|Turks and Caicos Islands
TD|Chad
TF|French Southern Territories
TG|Togo
TH|Thailand
TJ|Tajikistan
TK|Tokelau
TL|Timor-Leste|East Timor
TM|Turkmenistan
TN|Tunisia
TO|Tonga
TR|Türkiye|Turkey|Turkiye
TT|Trinidad and Tobago
TV|Tuvalu
TW|Taiwan|Taiwan, Province of China
TZ|Tanzania|Tanzania, United Republic of
UA|Ukraine
UG|Uganda
UM|United States Minor Outlying Islands
US|United States|United States of America|USA|U.S.A.|U.S.
UY|Uruguay
UZ|Uzbekistan
VA|Holy See|Vatican|Vatican City
VC|Saint Vincent and the Grenadines|St Vincent and the Grenadines
VE|Venezuela|Venezuela, Bolivarian Republic of
VG|Virgin Islands (British)|British Virgin Islands
VI|Virgin Islands (U.S.)|US Virgin Islands|U.S. Virgin Islands
VN|Viet Nam|Vietnam
VU|Vanuatu
WF|Wallis and Futuna
WS|Samoa
XK|Kosovo
YE|Yemen
YT|Mayotte
ZA|South Africa
ZM|Zambia
ZW|Zimbabwe`

const usStates = `AL|Alabama
AK|Alaska
AZ|Arizona
AR|Arkansas
CA|California
CO|Colorado
CT|Connecticut
DE|Delaware
DC|District of Columbia|Washington DC|Washington D.C.
FL|Florida
GA|Georgia
HI|Hawaii
ID|Idaho
IL|Illinois
IN|Indiana
IA|Iowa
KS|Kansas
KY|Kentucky
LA|Louisiana
ME|Maine
MD|Maryland
MA|Massachusetts
MI|Michigan
MN|Minnesota
MS|Mississippi
MO|Missouri
MT|Montana
NE|Nebraska
NV|Nevada
NH|New Hampshire
NJ|New Jersey
NM|New Mexico
NY|New York
NC|North Carolina
ND|North Dakota
OH|Ohio
OK|Oklahoma
OR|Oregon
PA|Pennsylvania
RI|Rhode Island
SC|South Carolina
SD|South Dakota
TN|Tennessee
TX|Texas
UT|Utah
VT|Vermont
VA|Virginia
WA|Washington
WV|West Virginia
WI|Wisconsin
WY|Wyoming
AS|American Samoa
GU|Guam
MP|Northern Mariana Islands
PR|Puerto Rico
VI|Virgin Islands|U.S. Virgin Islands
UM|United States Minor Outlying Islands
AA|Armed Forces Americas
AE|Armed Forces Europe
AP|Armed Forces Pacific`

const caProvinces = `AB|Alberta
BC|British Columbia|Colombie-Britannique
MB|Manitoba
NB|New Brunswick|Nouveau-Brunswick
NL|Newfoundland and Labrador|Newfoundland|Terre-Neuve-et-Labrador
NS|Nova Scotia|Nouvelle-Écosse|Nouvelle-Ecosse
NT|Northwest Territories|Territoires du Nord-Ouest
NU|Nunavut
ON|Ontario
PE|Prince Edward Island|Île-du-Prince-Édouard|Ile-du-Prince-Edouard|PEI
QC|Quebec|Québec|PQ
SK|Saskatchewan
YT|Yukon|Yukon Territory`

/** Lower-case, accents stripped, punctuation and repeated spaces folded: "Côte d’Ivoire" → "cote d ivoire". */
const fold = (s: string): string =>
  s
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim()

const index = (source: string) => {
  const codes = new Set<string>()
  const names = new Map<string, string>()
  for (const line of source.split("\n")) {
    const [code, ...aliases] = line.split("|")
    if (!code) continue
    codes.add(code)
    for (const alias of aliases) names.set(fold(alias), code)
  }
  return { codes, names }
}

const countries = index(table)
const states = { US: index(usStates), CA: index(caProvinces) } as const

/** Every ISO 3166-1 alpha-2 code posbridge knows. */
export const countryCodes: ReadonlySet<string> = countries.codes

const lookup = (ix: ReturnType<typeof index>, raw: string): string | undefined => {
  const value = raw.trim()
  if (value === "") return undefined
  const upper = value.toUpperCase()
  if (upper.length === 2 && ix.codes.has(upper)) return upper
  return ix.names.get(fold(value))
}

/**
 * The alpha-2 code for a country given as a code ("us", "GB") or a name ("United States", "Deutschland");
 * `undefined` when it is not recognized. Three-letter codes are not guessed: ShipStation rejects them and a
 * wrong guess would ship to the wrong country.
 */
export const toAlpha2 = (raw: string): string | undefined => lookup(countries, raw)

/** Countries whose ShipTo/State must be a two-letter code. */
export const requiresStateCode = (countryCode: string): countryCode is "US" | "CA" =>
  countryCode === "US" || countryCode === "CA"

/** The two-letter state or province code for a US or Canadian state given as a code or a name. */
export const stateCode = (countryCode: "US" | "CA", raw: string): string | undefined => lookup(states[countryCode], raw)
