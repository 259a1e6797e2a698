#!/usr/bin/env python3
"""Writes tests/data/shapes/: small, seeded tables in the shapes of the public data sets people
run customer segmentation on, so segmenta can be tested on each shape without the real data.

* `mall_like.csv` (+ `mall_like_groups.csv`) - a demographics-only table like "Mall Customers":
  240 customers, ids 0..239 (id 0 is the first data row), five planted groups of 48 that are
  well apart on income x spending score; CRLF line endings and no final newline.
* `cards_like.csv` - a behaviour table without any date, like Kaggle's "CC GENERAL": 600 card
  holders in four behavioural groups, values with up to 6 decimals, 20 % with no purchases,
  CREDIT_LIMIT blank in exactly 1 row and MINIMUM_PAYMENTS blank in 3 % of rows.
* `orders.csv`, `customers.csv`, `order_items.csv` - a normalised order-system export shaped
  like Olist: one customer_id per ORDER, several customer_id under one customer_unique_id,
  20 customers without orders and 25 items whose order does not exist; `prejoined.csv` is the
  same data joined the way an analyst would (items whose order exists, amount = price +
  freight_value) and `normalised_expected.json` holds its row, customer, order and revenue counts.
* `invoices_blank.csv` (+ `invoices_blank_expected.json`) - an invoice-level export where an
  Excel pivot wrote "(blank)" for invoices without a customer (exactly 14 % of the rows), a
  real customer with id "0", month-first dates ("12/1/2010 8:26") and a few refunds.

Every expected figure is computed from the files as written (read back with csv; money in
Decimal, exact to the cent), never typed in. Each fixture has its own random.Random(seed), so
re-running reproduces every file byte for byte. Standard library only:

    python3 tests/reference/table_shapes.py
"""
import csv
import datetime
import json
import pathlib
import random
from decimal import ROUND_HALF_UP, Decimal

OUT = pathlib.Path(__file__).resolve().parents[1] / "data" / "shapes"
CENT = Decimal("0.01")


def money(cents):
    """Integer cents -> Decimal with exactly 2 decimals."""
    return (Decimal(cents) / 100).quantize(CENT)


def trim(x, places=6):
    """A float with at most `places` decimals, trailing zeros dropped ("95.4", "0", "40.900749")."""
    s = f"{x:.{places}f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def hex_ids(rng, n, width=32, taken=None):
    """n distinct random lowercase hex strings of `width` characters, none of them in `taken`."""
    taken = set() if taken is None else taken
    out = []
    while len(out) < n:
        h = f"{rng.getrandbits(width * 4):0{width}x}"
        if h not in taken:
            taken.add(h)
            out.append(h)
    return out


def write_csv(name, header, rows):
    with open(OUT / name, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def read_csv(name):
    with open(OUT / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_json(name, obj):
    (OUT / name).write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def median(values):
    """Median of integers: an int for an odd count or a whole mean, else a float (x.5)."""
    v = sorted(values)
    n = len(v)
    m = Decimal(v[n // 2]) if n % 2 else (Decimal(v[n // 2 - 1]) + Decimal(v[n // 2])) / 2
    return int(m) if m == m.to_integral_value() else float(m)


# --- A. mall_like ---------------------------------------------------------------------------

MALL_GROUPS = [  # name, income (k$), score, age
    ("low income, low score", (15, 40), (5, 35), (35, 65)),
    ("low income, high score", (15, 40), (65, 99), (18, 32)),
    ("middle income, middle score", (45, 70), (40, 60), (25, 65)),
    ("high income, low score", (75, 135), (5, 35), (30, 60)),
    ("high income, high score", (75, 135), (70, 99), (25, 40)),
]
MALL_PER_GROUP = 48


def mall_rows(rng):
    """(group, gender, age, income, score) for 5 x 48 customers, shuffled; ids = list position."""
    rows = []
    for name, inc, score, age in MALL_GROUPS:
        for _ in range(MALL_PER_GROUP):
            gender = "Female" if rng.random() < 0.55 else "Male"
            rows.append((name, gender, rng.randint(*age), rng.randint(*inc), rng.randint(*score)))
    rng.shuffle(rows)
    return rows


def write_mall():
    rows = mall_rows(random.Random(101))
    lines = ["CustomerID,Gender,Age,Annual Income (k$),Spending Score (1-100)"]
    lines += [f"{i},{g},{a},{inc},{s}" for i, (_, g, a, inc, s) in enumerate(rows)]
    (OUT / "mall_like.csv").write_bytes("\r\n".join(lines).encode("ascii"))  # no final newline
    write_csv("mall_like_groups.csv", ["customer_id", "group"],
              [(i, r[0]) for i, r in enumerate(rows)])


def check_mall():
    raw = (OUT / "mall_like.csv").read_bytes()
    assert b"\r\n" in raw and not raw.endswith(b"\n") and b"\n" not in raw.replace(b"\r\n", b"")
    rows = read_csv("mall_like.csv")
    groups = {r["customer_id"]: r["group"] for r in read_csv("mall_like_groups.csv")}
    ids = [int(r["CustomerID"]) for r in rows]
    assert ids == list(range(len(rows))) and set(groups) == {str(i) for i in ids}
    per_group = {}
    for g in groups.values():
        per_group[g] = per_group.get(g, 0) + 1
    female = sum(r["Gender"] == "Female" for r in rows)
    return {"rows": len(rows), "first_id": ids[0], "female": female,
            "group_of_id_0": groups["0"], "per_group": per_group}


# --- B. cards_like --------------------------------------------------------------------------

CARDS_HEADER = ["CUST_ID", "BALANCE", "PURCHASES", "PURCHASES_TRX", "CASH_ADVANCE",
                "CREDIT_LIMIT", "PAYMENTS", "MINIMUM_PAYMENTS", "TENURE"]
CARDS_GROUPS = [("heavy purchaser", 150), ("cash advance", 100), ("low activity", 200),
                ("revolver", 150)]
CARDS_LOW_ACTIVITY_ZERO = 20  # low-activity holders with no purchase; with the cash-advance
# group that makes 120 of 600 = 20 % with PURCHASES = 0
CARDS_MIN_PAY_BLANK = 18  # 3 % of 600


def tenure(rng):
    return 12 if rng.random() < 0.8 else rng.randint(6, 11)


def limit(rng, lo, hi):
    return rng.randrange(lo, hi + 1, 50)


def card(rng, group, no_purchase=False):
    """One card holder's values as numbers (CREDIT_LIMIT and MINIMUM_PAYMENTS never blank here)."""
    u = rng.uniform
    if group == "heavy purchaser":
        purchases = round(u(3000, 15000), 2)
        return [u(500, 5000), purchases, rng.randint(40, 150),
                0.0 if rng.random() < 0.8 else u(0, 500), limit(rng, 8000, 20000),
                purchases * u(0.8, 1.1), u(150, 1500), tenure(rng)]
    if group == "cash advance":
        return [u(3000, 12000), 0.0, 0, u(2000, 10000), limit(rng, 4000, 12000),
                u(500, 5000), u(800, 4000), tenure(rng)]
    if group == "low activity":
        purchases, trx = (0.0, 0) if no_purchase else (round(u(10, 400), 2), rng.randint(1, 8))
        return [0.0 if rng.random() < 0.1 else u(0, 300), purchases, trx,
                0.0 if rng.random() < 0.9 else u(0, 200), limit(rng, 1000, 3000),
                u(50, 600), u(20, 200), tenure(rng)]
    return [u(1500, 6000), round(u(200, 2000), 2), rng.randint(5, 30),  # revolver
            0.0 if rng.random() < 0.5 else u(0, 1000), limit(rng, 2500, 7000),
            u(200, 1500), u(500, 2500), tenure(rng)]


def write_cards():
    rng = random.Random(202)
    holders = []
    for group, n in CARDS_GROUPS:
        zero = set(rng.sample(range(n), CARDS_LOW_ACTIVITY_ZERO)) if group == "low activity" else ()
        holders += [card(rng, group, i in zero) for i in range(n)]
    rng.shuffle(holders)
    blank_limit = rng.randrange(len(holders))
    others = [i for i in range(len(holders)) if i != blank_limit]  # one blank per row at most
    blank_min = set(rng.sample(others, CARDS_MIN_PAY_BLANK))
    rows = []
    for i, (bal, pur, trx, cash, lim, pay, minpay, ten) in enumerate(holders):
        rows.append([f"C{10001 + i}", trim(bal), trim(pur, 2), trx, trim(cash),
                     "" if i == blank_limit else str(lim), trim(pay),
                     "" if i in blank_min else trim(minpay), ten])
    write_csv("cards_like.csv", CARDS_HEADER, rows)


def check_cards():
    rows = read_csv("cards_like.csv")
    zero = sum(Decimal(r["PURCHASES"]) == 0 and r["PURCHASES_TRX"] == "0" for r in rows)
    tenures = {int(r["TENURE"]) for r in rows}
    assert min(tenures) >= 6 and max(tenures) <= 12
    assert all(sum(v == "" for v in r.values()) <= 1 for r in rows)
    return {"rows": len(rows), "purchases_zero": zero,
            "credit_limit_blank": sum(r["CREDIT_LIMIT"] == "" for r in rows),
            "minimum_payments_blank": sum(r["MINIMUM_PAYMENTS"] == "" for r in rows)}


# --- C. normalised order export (Olist-like) ------------------------------------------------

OLIST_SINGLE = 700  # unique customers with one order
OLIST_MULTI = 300  # unique customers with 2-4 orders, each order under its own customer_id
OLIST_ORPHAN_CUSTOMERS = 20
OLIST_ORPHAN_ITEMS = 25
OLIST_START = datetime.datetime(2017, 1, 1)
OLIST_SECONDS = int((datetime.datetime(2018, 9, 1) - OLIST_START).total_seconds())
CITIES = [  # city, state, zip prefix range, weight
    ("sao paulo", "SP", (1000, 5999), 30), ("guarulhos", "SP", (7000, 7399), 4),
    ("campinas", "SP", (13000, 13139), 6), ("rio de janeiro", "RJ", (20000, 23799), 14),
    ("belo horizonte", "MG", (30000, 31999), 8), ("vitoria", "ES", (29000, 29099), 3),
    ("curitiba", "PR", (80000, 82999), 6), ("porto alegre", "RS", (90000, 91999), 6),
    ("salvador", "BA", (40000, 42599), 5), ("brasilia", "DF", (70000, 72799), 6),
    ("recife", "PE", (50000, 52999), 4), ("goiania", "GO", (74000, 74899), 4),
    ("fortaleza", "CE", (60000, 61599), 4),
]


def place(rng):
    city, state, (lo, hi), _ = rng.choices(CITIES, weights=[c[3] for c in CITIES])[0]
    return f"{rng.randint(lo, hi):05d}", city, state


def purchase_time(rng):
    t = OLIST_START + datetime.timedelta(seconds=rng.randrange(OLIST_SECONDS))
    return t.strftime("%Y-%m-%d %H:%M:%S")


def item_rows(rng, order_id, products, sellers, n):
    """n items of one order: price 5.00-900.00 (mostly cheap), freight 0.00-60.00."""
    rows = []
    for k in range(1, n + 1):
        price = min(max(round(rng.lognormvariate(4.4, 0.9) * 100), 500), 90000)
        rows.append([order_id, k, rng.choice(products), rng.choice(sellers),
                     f"{money(price)}", f"{money(rng.randint(0, 6000))}"])
    return rows


def write_olist():
    rng = random.Random(303)
    taken = set()
    uniques = hex_ids(rng, OLIST_SINGLE + OLIST_MULTI, taken=taken)
    products = hex_ids(rng, 400, 16)  # shorter than Olist's 32 to keep order_items.csv small
    sellers = hex_ids(rng, 90, 16)
    orders, customers, items = [], [], []
    for i, unique in enumerate(uniques):
        n_orders = 1 if i < OLIST_SINGLE else rng.choices([2, 3, 4], weights=[55, 30, 15])[0]
        zip_code, city, state = place(rng)
        for cid in hex_ids(rng, n_orders, taken=taken):
            oid = hex_ids(rng, 1, taken=taken)[0]
            status = "canceled" if rng.random() < 0.03 else "delivered"
            orders.append([oid, cid, status, purchase_time(rng)])
            customers.append([cid, unique, zip_code, city, state])
            n_items = rng.choices([1, 2, 3], weights=[94, 5, 1])[0]
            items += item_rows(rng, oid, products, sellers, n_items)
    for cid, unique in zip(hex_ids(rng, OLIST_ORPHAN_CUSTOMERS, taken=taken),
                           hex_ids(rng, OLIST_ORPHAN_CUSTOMERS, taken=taken)):
        customers.append([cid, unique, *place(rng)])
    orphans = []
    while len(orphans) < OLIST_ORPHAN_ITEMS:
        n = min(rng.choice([1, 1, 2]), OLIST_ORPHAN_ITEMS - len(orphans))
        orphans += item_rows(rng, hex_ids(rng, 1, taken=taken)[0], products, sellers, n)
    items += orphans
    rng.shuffle(orders)
    rng.shuffle(customers)
    items.sort(key=lambda r: (r[0], r[1]))
    write_csv("orders.csv", ["order_id", "customer_id", "order_status",
                             "order_purchase_timestamp"], orders)
    write_csv("customers.csv", ["customer_id", "customer_unique_id", "customer_zip_code_prefix",
                                "customer_city", "customer_state"], customers)
    write_csv("order_items.csv", ["order_id", "order_item_id", "product_id", "seller_id",
                                  "price", "freight_value"], items)
    write_prejoined()


def write_prejoined():
    """Join the three written tables: items -> orders (inner) -> customers (by customer_id)."""
    orders = {r["order_id"]: r for r in read_csv("orders.csv")}
    customers = {r["customer_id"]: r for r in read_csv("customers.csv")}
    rows = []
    for item in read_csv("order_items.csv"):
        order = orders.get(item["order_id"])
        if order is None:
            continue
        cust = customers[order["customer_id"]]
        amount = Decimal(item["price"]) + Decimal(item["freight_value"])
        rows.append([cust["customer_unique_id"], order["order_id"],
                     order["order_purchase_timestamp"], f"{amount.quantize(CENT)}",
                     cust["customer_state"]])
    write_csv("prejoined.csv", ["customer_unique_id", "order_id", "order_purchase_timestamp",
                                "amount", "customer_state"], rows)


def olist_expected():
    orders = read_csv("orders.csv")
    customers = read_csv("customers.csv")
    items = read_csv("order_items.csv")
    joined = read_csv("prejoined.csv")
    order_ids = {r["order_id"] for r in orders}
    ordering = {r["customer_id"] for r in orders}
    ids_per_unique = {}
    for r in customers:
        ids_per_unique.setdefault(r["customer_unique_id"], set()).add(r["customer_id"])
    assert len(order_ids) == len(orders) and len(ordering) == len(orders)  # one per order
    assert ordering <= {r["customer_id"] for r in customers}
    for r in customers + items + joined:
        for key in ("customer_id", "customer_unique_id", "order_id"):
            assert key not in r or (len(r[key]) == 32 and int(r[key], 16) >= 0)
    assert all(len(r["customer_zip_code_prefix"]) == 5 for r in customers)
    assert all(Decimal("5") <= Decimal(r["price"]) <= Decimal("900") and
               Decimal("0") <= Decimal(r["freight_value"]) <= Decimal("60") for r in items)
    expected = {
        "item_rows": len(items),
        "orphan_items": sum(r["order_id"] not in order_ids for r in items),
        "joined_rows": len(joined),
        "customers": len({r["customer_unique_id"] for r in joined}),
        "revenue": str(sum((Decimal(r["amount"]) for r in joined), Decimal("0.00"))),
        "orders": len({r["order_id"] for r in joined}),
        "unique_customers_with_several_customer_ids":
            sum(len(ids) > 1 for ids in ids_per_unique.values()),
    }
    write_json("normalised_expected.json", expected)
    return {"orders_rows": len(orders), "customers_rows": len(customers),
            "customers_without_order": sum(r["customer_id"] not in ordering for r in customers),
            "canceled_orders": sum(r["order_status"] == "canceled" for r in orders), **expected}


# --- D. invoices with "(blank)" customers ---------------------------------------------------

INV_ROWS = 2600
INV_BLANK_SHARE = Decimal("0.14")
INV_CUSTOMERS = 600  # 5-digit ids, plus customer "0"
INV_ZERO_ROWS = 3
INV_REFUNDS = 36
INV_START = datetime.datetime(2010, 12, 1)
INV_DAYS = (datetime.date(2011, 12, 9) - INV_START.date()).days + 1
COUNTRIES = [("United Kingdom", 85), ("Germany", 4), ("France", 4), ("EIRE", 2), ("Spain", 1),
             ("Netherlands", 1), ("Belgium", 1), ("Switzerland", 1), ("Portugal", 1)]
BLANK = "(blank)"


def invoice_time(rng):
    """A time between 7:00 and 19:59 on a day of the period."""
    return INV_START + datetime.timedelta(days=rng.randrange(INV_DAYS), hours=rng.randint(7, 19),
                                          minutes=rng.randrange(60))


def month_first(t):
    return f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}"


def invoice_cents(rng):
    return min(max(round(rng.lognormvariate(5.7, 0.9) * 100), 100), 800000)


def invoice_customers(rng, blank):
    """The CustomerID of every row in a random order: blanks, 3 x "0", and 600 real customers
    with at least one invoice each and a long tail of regulars."""
    ids = [12346] + rng.sample(range(12347, 18288), INV_CUSTOMERS - 1)
    real_rows = INV_ROWS - blank - INV_ZERO_ROWS
    weights = [rng.paretovariate(1.3) for _ in ids]
    extra = rng.choices(ids, weights, k=real_rows - len(ids))
    labels = [str(c) for c in ids + extra]
    labels += ["0"] * INV_ZERO_ROWS + [BLANK] * blank
    rng.shuffle(labels)
    return labels


def write_invoices():
    rng = random.Random(404)
    blank = int((INV_ROWS * INV_BLANK_SHARE).quantize(Decimal(1), ROUND_HALF_UP))
    labels = invoice_customers(rng, blank)
    times = sorted(invoice_time(rng) for _ in labels)
    country = {c: rng.choices([n for n, _ in COUNTRIES], [w for _, w in COUNTRIES])[0]
               for c in sorted(set(labels))}
    country[BLANK] = country["0"] = "United Kingdom"
    seen = set()
    refundable = []  # rows of 5-digit customers after their first invoice
    for i, c in enumerate(labels):
        if c not in (BLANK, "0") and c in seen:
            refundable.append(i)
        seen.add(c)
    refunds = set(rng.sample(refundable, INV_REFUNDS))
    rows, number = [], 536365
    for i, (c, t) in enumerate(zip(labels, times)):
        if i in refunds:
            no, amount = f"C{number}", -money(rng.randint(200, 40000))
        else:
            no, amount = str(number), money(invoice_cents(rng))
        rows.append([no, month_first(t), c, country[c], f"{amount}"])
        number += rng.randint(1, 3)
    write_csv("invoices_blank.csv", ["InvoiceNo", "InvoiceDate", "CustomerID", "Country",
                                     "Amount"], rows)


def invoices_expected():
    rows = read_csv("invoices_blank.csv")
    zero = Decimal("0.00")
    amounts = [(r["CustomerID"], Decimal(r["Amount"])) for r in rows]
    per_customer = {}
    for c, _ in amounts:
        if c != BLANK:
            per_customer[c] = per_customer.get(c, 0) + 1
    days = [int(r["InvoiceDate"].split("/")[1]) for r in rows]
    assert max(days) > 12
    quarters = [rows[k * len(rows) // 4:(k + 1) * len(rows) // 4] for k in range(4)]
    assert all(any(r["CustomerID"] == BLANK for r in q) for q in quarters)  # spread over time
    for r in rows:
        assert r["InvoiceNo"].startswith("C") == r["Amount"].startswith("-")
        datetime.datetime.strptime(r["InvoiceDate"], "%m/%d/%Y %H:%M")
    expected = {
        "rows": len(rows),
        "blank_rows": sum(c == BLANK for c, _ in amounts),
        "blank_revenue": str(sum((a for c, a in amounts if c == BLANK), zero)),
        "customers_excluding_blank": len(per_customer),
        "revenue_excluding_blank": str(sum((a for c, a in amounts if c != BLANK), zero)),
        "revenue_all": str(sum((a for _, a in amounts), zero)),
        "zero_id_rows": per_customer["0"],
        "zero_id_revenue": str(sum((a for c, a in amounts if c == "0"), zero)),
        "median_rows_per_real_customer": median(per_customer.values()),
    }
    assert expected["blank_rows"] == int(
        (len(rows) * INV_BLANK_SHARE).quantize(Decimal(1), ROUND_HALF_UP))
    write_json("invoices_blank_expected.json", expected)
    return {"refunds": sum(r["InvoiceNo"].startswith("C") for r in rows),
            "first_date": rows[0]["InvoiceDate"], "last_date": rows[-1]["InvoiceDate"], **expected}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    write_mall()
    write_cards()
    write_olist()
    write_invoices()
    summary = {"mall_like.csv": check_mall(), "cards_like.csv": check_cards(),
               "orders/customers/order_items/prejoined": olist_expected(),
               "invoices_blank.csv": invoices_expected()}
    for name, figures in summary.items():
        print(f"{name}: {json.dumps(figures)}")
    for path in sorted(OUT.iterdir()):
        print(f"  {path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
