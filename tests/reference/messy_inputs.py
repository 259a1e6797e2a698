"""Writes tests/data/messy/: one set of 204 transactions of 40 customers in the shapes real CRM
exports come in (Latin-1 with title lines, `;`, day-first dates and decimal commas; UTF-8 with
BOM and CRLF; UTF-16 tab-separated; split into a folder), a Windows-1251 customers table with
Cyrillic headers, and a file without a header line. Run from tests/data/messy/."""
import datetime
import random

random.seed(3)
rows = []
for c in range(1, 41):
    for _ in range(random.randint(1, 8)):
        d = datetime.date(2023, 1, 1) + datetime.timedelta(days=random.randint(0, 360))
        amt = round(random.uniform(5, 2500), 2)
        if random.random() < 0.08:
            amt = -round(random.uniform(5, 100), 2)
        rows.append((f"C{c:02d}", d, amt))
cities = ["München", "Köln", "Zürich", "Москва", "Санкт-Петербург"]


def de(a):  # 1.234,50
    s = f"{abs(a):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return ("-" if a < 0 else "") + s


with open("plain_transactions.csv", "w", encoding="utf-8", newline="") as f:
    f.write("customer,date,amount\n")
    for c, d, a in rows:
        f.write(f"{c},{d.isoformat()},{a:.2f}\n")
with open("latin1_transactions.csv", "w", encoding="latin-1", newline="") as f:
    f.write("Umsätze Export\nErstellt am 05.01.2024 von CRM\n\n")
    f.write("Kunde;Datum;Betrag;Stadt\n")
    for i, (c, d, a) in enumerate(rows):
        f.write(f"{c};{d.strftime('%d.%m.%Y')};{de(a)};{cities[i % 3]}\n")
with open("bom_crlf_transactions.csv", "w", encoding="utf-8-sig", newline="") as f:
    f.write("customer,date,amount\r\n")
    for c, d, a in rows:
        f.write(f"{c},{d.isoformat()},{a:.2f}\r\n")
with open("utf16_transactions.txt", "w", encoding="utf-16", newline="") as f:
    f.write("customer\tdate\tamount\r\n")
    for c, d, a in rows:
        f.write(f"{c}\t{d.isoformat()}\t{a:.2f}\r\n")
with open("cp1251_customers.csv", "w", encoding="cp1251", newline="") as f:
    f.write("Код;Город;Доход\n")
    for c in range(1, 43):  # two customers without purchases
        f.write(f"C{c:02d};{cities[3 + c % 2]};{'' if c % 7 == 0 else str(20000 + c * 500)}\n")
half = len(rows) // 2
for name, part in [("part1.csv", rows[:half]), ("part2.csv", rows[half:])]:
    with open(f"parts/{name}", "w", encoding="utf-8", newline="") as f:
        f.write("customer,date,amount\n")
        for c, d, a in part:
            f.write(f"{c},{d.isoformat()},{a:.2f}\n")
with open("headerless.csv", "w") as f:
    for c, d, a in rows[:5]:
        f.write(f"{c[1:]},{d.isoformat()},{a:.2f}\n")
print(len(rows), round(sum(a for _, _, a in rows), 2))
