"""Model-file texts shared by the io and CLI tests: a good two-bath file and malformed variants,
each with the words its error message must contain and the line and column it must name."""

GOOD = '''\
[system]
name = "two-bath qubit"
sites = 1
hamiltonian = "0.5 * Z0"

[[bath]]
name = "hot"
temperature = 2.0
spectral_density = { kind = "ohmic", alpha = 0.01, cutoff = 10.0 }
coupling = "X0"

[[bath]]
name = "cold"
temperature = 0.5
spectral_density = { kind = "ohmic", alpha = 0.01, cutoff = 10.0 }
coupling = "X0"
'''


def _replace(old, new, text=GOOD):
    assert old in text, old
    return text.replace(old, new, 1)


# (label, file text, words the message must contain, line, column or None)
BAD = [
    ("TOML syntax", _replace('name = "hot"', 'name = "hot'), ["invalid TOML"], 7, None),
    ("unknown table", GOOD + "\n[sytem]\nx = 1\n", ["unknown table [sytem]"], 18, 1),
    ("unknown key in system", _replace("sites = 1", "sites = 1\nhamiltonain = 1"),
     ["unknown key 'hamiltonain'", "did you mean 'hamiltonian'"], 4, 1),
    ("unknown key in bath", _replace('coupling = "X0"', 'coupling = "X0"\ncoupling_strength = 2'),
     ["bath[0].coupling_strength", "unknown key"], 11, 1),
    ("negative temperature", _replace("temperature = 2.0", "temperature = -2.0"),
     ["bath[0].temperature", "≥ 0", "-2.0"], 8, 1),
    ("temperature as string", _replace("temperature = 2.0", 'temperature = "hot"'),
     ["bath[0].temperature", "expected a number", "string"], 8, 1),
    ("temperature and beta", _replace("temperature = 2.0", "temperature = 2.0\nbeta = 0.5"),
     ["either `temperature` or `beta`"], 9, 1),
    ("non-Hermitian H", _replace('"0.5 * Z0"', '"0.5 * Z0 + Sp0"'),
     ["system.hamiltonian", "Hermitian"], 4, 1),
    ("non-Hermitian coupling", _replace('coupling = "X0"', 'coupling = "Sm0"'),
     ["bath[0].coupling", "Hermitian"], 10, 1),
    ("eval attempt __import__", _replace('"0.5 * Z0"', '"__import__(\'os\').system(\'ls\')"'),
     ["system.hamiltonian", "unknown operator '__import__'"], 4, 16),
    ("unbalanced parentheses", _replace('"0.5 * Z0"', '"0.5 * (Z0 + X0"'),
     ["unbalanced parentheses"], 4, 22),
    ("closing parenthesis", _replace('"0.5 * Z0"', '"0.5 * Z0)"'), ["unbalanced parentheses"], 4, 24),
    ("unknown operator", _replace('"0.5 * Z0"', '"0.5 * Q0"'), ["unknown operator 'Q0'"], 4, 22),
    ("site out of range", _replace('coupling = "X0"', 'coupling = "X3"'),
     ["bath[0].coupling", "site 3", "out of range"], 10, 13),
    ("implicit multiplication", _replace('"0.5 * Z0"', '"2Z0"'), ["directly followed"], 4, 17),
    ("attribute access", _replace('"0.5 * Z0"', '"Z0.conj()"'), ["attribute access"], 4, 18),
    ("ladder op on qubits", _replace('"0.5 * Z0"', '"a + ad"'), ["unknown operator 'a'", "levels"], 4, 16),
    ("unknown spectral kind", _replace('kind = "ohmic", alpha = 0.01', 'kind = "gaussian", alpha = 0.01'),
     ["unknown spectral density kind 'gaussian'"], 9, 22),
    ("spectral parameter unknown", _replace("alpha = 0.01, cutoff", "alpha = 0.01, s = 2.0, cutoff"),
     ["unknown parameter 's'", "ohmic"], 9, 52),
    ("negative alpha", _replace("alpha = 0.01", "alpha = -0.01"), ["alpha", "≥ 0"], 9, 38),
    ("missing kind", _replace('kind = "ohmic", ', ""), ["missing `kind`"], 9, 1),
    ("duplicate bath names", _replace('name = "cold"', 'name = "hot"'),
     ["duplicate channel name 'hot'"], 13, 1),
    ("missing system", GOOD.split("[[bath]]", 1)[1].join(["[[bath]]", ""]), ["missing table [system]"], 1, 1),
    ("missing hamiltonian", _replace('hamiltonian = "0.5 * Z0"\n', ""),
     ["missing required key 'hamiltonian'"], 1, 1),
    ("sites and levels", _replace("sites = 1", "sites = 1\nlevels = 2"), ["exactly one of `sites`"], 4, 1),
    ("zero sites", _replace("sites = 1", "sites = 0"), ["system.sites", "≥ 1"], 3, 1),
    ("too many sites", _replace("sites = 1", "sites = 99"), ["system.sites", "≤ 20"], 3, 1),
    ("system as array", _replace("[system]", "[[system]]"), ["[system] must be a table"], 1, 1),
    ("bath as table", _replace("[[bath]]", "[bath]", GOOD.split('\n[[bath]]\nname = "cold"')[0]),
     ["[[bath]] must be an array of tables"], 6, 1),
    ("no dissipation", GOOD.split("[[bath]]")[0], ["no dissipation"], 1, 1),
    ("negative jump rate", GOOD + '\n[[jump]]\noperator = "Sm0"\nrate = -1.0\n',
     ["jump[0].rate", "≥ 0"], 20, 1),
    ("jump operator error", GOOD + '\n[[jump]]\noperator = "Sm0 *"\nrate = 1.0\n',
     ["jump[0].operator", "missing operand"], 19, 18),
    ("reference temperature zero", GOOD + "\n[analysis]\ntemperature = 0.0\n",
     ["analysis.temperature", "> 0"], 19, 1),
    ("lamb_shift not bool", GOOD + "\n[generator]\nlamb_shift = 1\n",
     ["generator.lamb_shift", "true or false"], 19, 1),
    ("empty expression", _replace('"0.5 * Z0"', '""'), ["empty expression"], 4, 16),
    ("escaped string column", _replace('"0.5 * Z0"', '"\\u0030.5 * Q0"'), ["unknown operator 'Q0'"], 4, 27),
]
