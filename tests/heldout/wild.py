"""``make_heldout --wild``: crews that copy human life to get past the rules a live platform
runs today, and the honest people they look like. Written from the data contract, the README's
pattern descriptions and public reports of how such crews work, never from the project's
generator or detectors.

Crews (truth/accounts.csv: pattern, cluster, role, ``evasion`` = the tactics, ';'-separated):

- ``W-bot*`` scripted_timing: scripts that sleep seven hours a night with a jittered wake time
  and a weekly rhythm, but whose sessions last a machine-steady time and whose gaps between
  events come from one fixed distribution; each spread over many devices and residential IPs.
- ``W-drip*`` vote_inflation: bought votes/likes/follows dripped over days through aged accounts
  that also browse and shop like anyone else.
- ``W-ext*`` extortion_ring: members each hit one or two of many (dozens to a thousand) small
  shops; demands in free text in another language, or through ordinary refunds only.
- ``W-own*`` brushing_ring: a shop's own staff accounts order from it every few days, each to
  its own real-looking address, and post varied positive reviews.
- ``W-ref*`` serial_refunder: small crews claiming "not received" on most orders across many
  shops, the accounts sharing one address, one device or one phone (payout) number.
- ``W-rig*`` coupon_hoarding: group-control rigs of 100-200 phones, one device per account,
  one IP block per rig, jittered claims at release, redeemed orders pooled to a few addresses.

Look-alikes (truth/lookalikes.csv; none may be flagged): a school class and an office voting for
one entry within an hour, a shop with a genuinely bad batch, families sharing one device and
address, resellers buying many of one item, night-shift workers, a courier's phone that a
village orders through, a popular shop's flash sale.

Everything drawn here comes from its own stream ``np.random.default_rng([seed, 4404])``; the
world's helpers (ids, rows) still use the world's stream, so only ``--wild`` output moves.
"""

from __future__ import annotations

import numpy as np

from .life import END, aftercare, browse, everyday, price
from .newpatterns import Catalog, organic_engagement
from .world import BAD_WORDS, CARRIER_SEGMENTS, DAY, DAYS, FIRST_WEEKDAY, HOUR, NIGHT, Person, World, local_text

TAG = 4404

FOREIGN_DEMANDS = (
    "Product arrived broken. Pay compensation or I post this everywhere.",
    "Fake goods. I want 200 yuan or more bad reviews will come.",
    "Товар бракованный. Верните деньги и компенсацию, иначе будет жалоба.",
    "Hàng giả, yêu cầu bồi thường ngay, nếu không sẽ đánh giá 1 sao khắp nơi.",
    "商品が壊れていました。補償しなければ通報します。",
    "Produk rusak, minta ganti rugi atau saya laporkan ke platform.",
    "상품이 불량입니다. 보상해 주지 않으면 신고하겠습니다.",
    "Mauvaise qualité, remboursez plus un dédommagement, sinon avis négatifs.",
)
PLAIN_REASONS = ("not_as_described", "quality", "damaged", "wrong_size", "七天无理由")
NOT_RECEIVED = ("not_received", "未收到货", "物流显示签收但没收到", "包裹丢失", "not received")
PRAISE_OPEN = ("东西收到了", "第三次买了", "帮同事买的", "物流挺快", "包装很仔细", "给家里老人买的", "试用了几天", "")
PRAISE_BODY = (
    "质量比想象的好",
    "做工细致，没有异味",
    "颜色和图片一样",
    "尺寸刚好，很合适",
    "性价比很高",
    "客服回复很及时",
    "用起来很顺手",
    "味道不错，孩子爱吃",
)
PRAISE_CLOSE = ("，会回购", "，推荐", "！", "。", " 👍", "，五星", "，下次还来", "")


class Wild:
    def __init__(self, w: World, seed: int, truth: dict, honest: list[Person]) -> None:
        self.w, self.truth = w, truth
        self.rng = np.random.default_rng([seed, TAG])
        truth.setdefault("inflated_targets", [])
        truth.setdefault("brushing_shops", [])
        used = {r["account_id"] for r in truth["lookalikes"]} | {r["account_id"] for r in truth["accounts"]}
        self.free = [
            honest[int(i)]
            for i in self.rng.permutation(len(honest))
            if honest[int(i)].account_id not in used and honest[int(i)].registered < 0
        ]
        self.cursor = 0

    # helpers ---------------------------------------------------------------------------------
    def take(self, k: int) -> list[Person]:
        self.cursor += k
        return self.free[self.cursor - k : self.cursor]

    def old(self, lo: float = 30, hi: float = 900) -> float:
        return -float(self.rng.uniform(lo, hi)) * DAY + float(self.rng.uniform(8, 22)) * HOUR

    def member(self, p: Person, pattern: str, cluster: str, role: str, evasion: list[str]) -> None:
        self.truth["accounts"].append(
            {
                "account_id": p.account_id,
                "pattern": pattern,
                "cluster": cluster,
                "role": role,
                "evasion": ";".join(evasion),
            }
        )

    def look(self, p: Person, kind: str, group: str) -> None:
        self.truth["lookalikes"].append({"account_id": p.account_id, "lookalike": kind, "group": group})

    def shop_id(self) -> str:
        return self.w._unique(lambda: f"{int(self.rng.integers(0, 10**6)):06d}")

    def live(self, p: Person, orders: float = 0.12, sessions: float = 0.3) -> Person:
        r = self.rng
        everyday(self.w, p, orders * float(r.lognormal(0, 0.5)), sessions * float(r.lognormal(0, 0.5)))
        return p

    def small_shop(self, n_orders: int, shared: bool = False) -> str:
        """A new small shop with a thin honest trade (its base rates come from these); ``shared``
        draws its buyers from all honest people instead of taking them for this story alone."""
        w, r = self.w, self.rng
        shop = self.shop_id()
        buyers = [self.free[int(i)] for i in r.integers(0, len(self.free), n_orders)] if shared else self.take(n_orders)
        for p in buyers:
            o = w.order(p, w.at(w.day(), p.hours), shop, price(r, 45, 0.7))
            aftercare(w, p, o)
        return shop

    # 1. scripted_timing ----------------------------------------------------------------------
    def human_bots(self, name: str, n: int) -> dict:
        w, r = self.w, self.rng
        drawn = []
        for i in range(n):
            p = w.register(self.old(20, 600))
            devices = [p.device] + [w.device() for _ in range(int(r.integers(2, 30)))]
            ips = [w.ipv4() for _ in range(int(r.integers(5, 60)))]
            session_len = float(r.uniform(20, 400))
            gap_kind = str(r.choice(["uniform", "normal", "exponential"]))
            gap = float(r.uniform(2, 25))
            n_events = int(np.clip(session_len // gap, 3, 30))
            gap = session_len / n_events
            action = str(r.choice(["lottery_spin", "view", "like", "view"]))
            wake_mean = float(r.uniform(6.0, 9.0))
            per_day = float(r.uniform(5, 18))
            cover = r.random() < 0.5
            evasion = ["human_sleep", "jittered_wake", "weekly_rhythm", "steady_sessions", f"gaps_{gap_kind}"]
            evasion += ["many_devices", "residential_ips"] + (["cover_orders"] if cover else [])
            self.member(p, "scripted_timing", "", "human_bot", evasion)
            if cover:
                everyday(w, p, 0.08, 0.0)
            target_pool = [w.shop() for _ in range(20)]
            for day in range(DAYS):
                weekend = ((day + FIRST_WEEKDAY) % 7) >= 5
                if r.random() < 0.04:
                    continue  # a day off
                wake = wake_mean + (1.3 if weekend else 0.0) + float(r.normal(0, 0.6))
                awake = 17.0 + float(r.normal(0, 0.3))
                k = int(r.poisson(per_day * (1.25 if weekend else 1.0)))
                # more in the evening, a dip after lunch: a human-looking day shape
                u = np.sort(r.beta(2.2, 1.6, k)) * awake
                for h in u:
                    t = day * DAY + (wake + float(h)) * HOUR
                    dev = devices[int(r.integers(0, len(devices)))]
                    ip = ips[int(r.integers(0, len(ips)))]
                    sess = w.token()
                    length = session_len * float(1 + r.normal(0, 0.004))
                    w.act(p, t, "login", length, session=sess, device=dev, ip=ip)
                    s = t + 0.8
                    for _ in range(n_events):
                        if gap_kind == "uniform":
                            s += float(r.uniform(0.9 * gap, 1.1 * gap))
                        elif gap_kind == "normal":
                            s += float(max(0.2, r.normal(gap, 0.05 * gap)))
                        else:
                            s += float(r.exponential(gap))
                        if s > t + length:
                            break
                        target = None if action == "lottery_spin" else target_pool[int(r.integers(0, 20))]
                        w.act(
                            p, s, action, float(r.uniform(0.95, 1.05)), session=sess, target=target, device=dev, ip=ip
                        )
            drawn.append({"session_s": round(session_len, 1), "gap": gap_kind, "devices": len(devices)})
        return {"bots": n, "drawn": drawn}

    # 2. vote_inflation -----------------------------------------------------------------------
    def drip_votes(self, name: str, cat: Catalog) -> dict:
        w, r = self.w, self.rng
        size = int(r.integers(30, 150))
        phones = r.random() < 0.5
        devices = [w.device() for _ in range(max(2, size // int(r.integers(2, 6))))] if phones else []
        evasion = ["drip_over_days", "cover_browsing", "aged_accounts"] + (["shared_phones"] if phones else [])
        people = []
        for _ in range(size):
            dev = devices[int(r.integers(0, len(devices)))] if phones else None
            p = w.register(self.old(60, 900), device=dev)
            if dev:
                p.extra_devices = []
            self.live(p, 0.08, 0.5)
            self.member(p, "vote_inflation", name, "drip", evasion)
            people.append(p)
        targets = []
        for _ in range(int(r.integers(3, 12))):
            action = str(r.choice(["vote", "vote", "like", "follow"]))
            targets.append((cat.obscure(r, action), action))
        for target, action in targets:
            self.truth["inflated_targets"].append({"cluster": name, "target_id": target, "action": action})
            start = int(r.integers(0, DAYS - 8))
            span = int(r.integers(7, DAYS - start + 1))
            share = float(r.uniform(0.4, 0.9))
            for p in people:
                if r.random() >= share:
                    continue
                rounds = int(r.integers(1, 5)) if action == "vote" else 1
                for day in sorted(r.choice(np.arange(start, start + span), size=min(rounds, span), replace=False)):
                    t = w.at(int(day), p.hours)
                    ip = p.ip if r.random() < 0.5 else w.carrier_nat[int(r.integers(0, len(w.carrier_nat)))]
                    w.act(
                        p,
                        t,
                        action,
                        float(np.clip(r.lognormal(np.log(1.6), 0.6), 0.3, 15)),
                        session=w.token(),
                        target=target,
                        ip=ip,
                    )
        return {"size": size, "targets": len(targets), "shared_phones": phones}

    # 3. extortion_ring -----------------------------------------------------------------------
    def scattered_extortion(self, name: str) -> dict:
        w, r = self.w, self.rng
        size = int(r.integers(20, 60))
        n_pool = int(r.integers(30, 1000))
        n_new = max(n_pool - 500, min(n_pool, 250))
        pool = [self.small_shop(int(r.integers(1, 5)), shared=True) for _ in range(n_new)]
        pool += [w.shops[int(j)] for j in r.choice(np.arange(200, 700), size=n_pool - n_new, replace=False)]
        shared = [w.device() for _ in range(int(r.integers(1, 5)))]
        net = w.ipv4().rsplit(".", 1)[0]
        hit: set[str] = set()
        for i in range(size):
            p = w.register(self.old(200, 1500))
            self.live(p, 0.06, 0.25)
            mode = str(r.choice(["foreign_text", "plain_refund", "withdraw_after_pay"]))
            use_dev = r.random() < 0.35
            use_net = r.random() < 0.4
            evasion = ["one_or_two_shops_each", f"pool_{n_pool}_shops", mode]
            evasion += ["shared_device"] if use_dev else []
            evasion += ["ip_block"] if use_net else []
            if not (use_dev or use_net):
                evasion.append("no_shared_traits")
            self.member(p, "extortion_ring", name, "member", evasion)
            for shop in r.choice(pool, size=int(r.integers(1, 3)), replace=False):
                shop = str(shop)
                hit.add(shop)
                t = w.at(w.day(0, DAYS - 4), p.hours)
                dev = shared[int(r.integers(0, len(shared)))] if use_dev else None
                ip = w.ipv4(net) if use_net else None
                o = w.order(p, t, shop, price(r, 35, 0.6), device=dev, ip=ip)
                posted = t + float(r.uniform(1, 4)) * DAY
                if mode == "plain_refund":
                    if r.random() < 0.5:
                        w.review(p, o, shop, posted, int(r.choice([1, 2])))
                    w.refund(
                        p, o, posted + float(r.uniform(0, 1)) * DAY, o["amount"], reason=str(r.choice(PLAIN_REASONS))
                    )
                    continue
                text = str(FOREIGN_DEMANDS[int(r.integers(0, len(FOREIGN_DEMANDS)))])
                rid = w.review(p, o, shop, posted, 1, text=text if mode == "foreign_text" else None)
                paid = w.refund(
                    p,
                    o,
                    posted + float(r.uniform(0.1, 1.5)) * DAY,
                    float(r.uniform(30, 200)),
                    kind="compensation",
                    reason=text if mode == "foreign_text" else "quality",
                    outcome="approved" if r.random() < 0.8 else "rejected",
                )
                if paid is not None and mode == "withdraw_after_pay":
                    w.review(p, o, shop, paid + float(r.uniform(1, 20)) * HOUR, None, action="withdrawn", review_id=rid)
        self.truth["ring_shops"] += [{"cluster": name, "shop_id": s} for s in sorted(hit)]
        return {"size": size, "pool": n_pool, "shops_hit": len(hit)}

    # 4. brushing_ring ------------------------------------------------------------------------
    def own_brushing(self, name: str) -> dict:
        w, r = self.w, self.rng
        shop = self.small_shop(int(r.integers(15, 60)))
        staff = int(r.integers(6, 20))
        office_ip = w.ipv4()
        phones = [w.device() for _ in range(int(r.integers(2, 5)))]
        amount = float(r.uniform(30, 200))
        evasion = ["own_staff_accounts", "varied_texts", "real_addresses", "days_between_orders"]
        for _ in range(staff):
            p = w.register(self.old(30, 700))
            self.live(p, 0.06, 0.3)
            self.member(p, "brushing_ring", name, "staff", evasion)
            t = float(r.uniform(0, 4)) * DAY
            while t < END - DAY:
                t = float(int(t // DAY)) * DAY + float(r.uniform(9, 23)) * HOUR
                dev = phones[int(r.integers(0, len(phones)))] if r.random() < 0.6 else None
                ip = office_ip if r.random() < 0.5 else None
                o = w.order(p, t, shop, round(amount * float(r.uniform(0.8, 1.3)), 2), device=dev, ip=ip)
                if r.random() < 0.85:
                    text = str(r.choice(PRAISE_OPEN)) + str(r.choice(PRAISE_BODY)) + str(r.choice(PRAISE_CLOSE))
                    w.review(p, o, shop, t + float(r.uniform(1, 5)) * DAY, 5 if r.random() < 0.85 else 4, text=text)
                t += float(r.uniform(2, 7)) * DAY
        self.truth["brushing_shops"].append({"cluster": name, "shop_id": shop})
        return {"shop": shop, "staff": staff}

    # 5. serial_refunder ----------------------------------------------------------------------
    def spread_refunders(self, name: str) -> dict:
        w, r = self.w, self.rng
        n = int(r.integers(1, 5))
        link = str(r.choice(["shared_addr", "shared_device", "shared_phone_hash"]))
        addr, dev, phone = w.token("ad"), w.device(), r.bytes(16).hex()
        rate = float(r.uniform(0.55, 0.9))
        evasion = ["many_shops", "not_received_claims", f"accounts_{n}", link]
        for _ in range(n):
            p = w.register(
                self.old(60, 900),
                device=dev if link == "shared_device" else None,
                addr=addr if link == "shared_addr" else None,
            )
            if link == "shared_phone_hash":
                w.rows["accounts"][-1]["phone_hash"] = phone
            if link == "shared_device":
                p.extra_devices = []
            self.live(p, 0.04, 0.3)
            self.member(p, "serial_refunder", name, "claimant", evasion)
            for _ in range(int(r.integers(10, 30))):
                t = w.at(w.day(0, DAYS - 3), p.hours)
                o = w.order(p, t, w.shop(), price(r, 80, 0.7))
                if r.random() < rate:
                    w.refund(
                        p,
                        o,
                        t + float(r.uniform(3, 9)) * DAY,
                        o["amount"],
                        reason=str(r.choice(NOT_RECEIVED)),
                        outcome="approved" if r.random() < 0.85 else "rejected",
                    )
                elif r.random() < 0.3:
                    w.review(p, o, o["shop_id"], t + float(r.uniform(2, 6)) * DAY, int(r.choice([4, 5])))
        return {"accounts": n, "link": link, "rate": round(rate, 2)}

    # 6. coupon_hoarding ----------------------------------------------------------------------
    def coupon_rig(self, name: str) -> dict:
        w, r = self.w, self.rng
        n = int(r.integers(100, 201))
        net = w.ipv4().rsplit(".", 1)[0]
        addrs = [w.token("ad") for _ in range(int(r.integers(2, 7)))]
        reg0 = -float(r.uniform(10, 120)) * DAY
        waves = int(r.integers(2, 8))
        lag = float(r.uniform(20, 300))
        evasion = [
            "group_control_rig",
            "one_device_each",
            "one_ip_block",
            "pooled_shipping",
            "jittered_claims",
            "real_carrier_numbers",
        ]
        people = []
        for i in range(n):
            t = reg0 + int(r.integers(0, waves)) * float(r.uniform(2, 8)) * DAY + float(r.uniform(9, 23)) * HOUR
            p = w.register(
                t,
                ip=w.ipv4(net),
                prefix=str(r.choice(CARRIER_SEGMENTS)) + f"{int(r.integers(0, 10000)):04d}",
                channel="app",
                addr=str(r.choice(addrs)),
            )
            p.extra_devices, p.ip = [], w.ipv4(net)
            self.member(p, "coupon_hoarding", name, "rig_phone", evasion)
            people.append(p)
            for _ in range(int(r.poisson(3))):
                browse(w, p, w.at(w.day(max(0, int(t // DAY) + 1)), p.hours))
        for camp in w.campaigns:
            rel = camp["released_at"]
            for p in people:
                if p.registered >= rel or r.random() > 0.8:
                    continue
                ip = w.ipv4(net)
                c = rel + float(r.lognormal(np.log(lag), 0.8))
                cid = w.coupon(p, camp, "claim", c, ip=ip)
                if r.random() < 0.35:
                    continue
                when = c + float(r.uniform(1, 72)) * HOUR
                gross = (
                    camp["threshold"] + float(r.uniform(0.1, 8))
                    if camp["threshold"]
                    else camp["face_value"] + float(r.uniform(0.5, 10))
                )
                o = w.order(
                    p,
                    when,
                    w.shop(0, 60),
                    gross - camp["face_value"],
                    discount=camp["face_value"],
                    coupon=cid,
                    ip=ip,
                    addr=str(r.choice(addrs)),
                )
                w.coupon(p, camp, "redeem", when, cid, o, ip=ip)
        return {"phones": n, "addresses": len(addrs), "claim_lag_s": round(lag)}

    # look-alikes -----------------------------------------------------------------------------
    def group_vote(self, kind: str, cat: Catalog, n: int) -> None:
        w, r = self.w, self.rng
        nat = w.ipv4()
        target = cat.obscure(r, "vote")
        day = int(r.integers(1, DAYS - 1))
        start = day * DAY + float(r.uniform(9, 16)) * HOUR
        people = self.take(n)
        for p in people:
            w.act(
                p,
                start + float(r.gamma(2, 600)),
                "vote",
                float(np.clip(r.lognormal(np.log(2), 0.6), 0.4, 20)),
                session=w.token(),
                target=target,
                ip=nat,
            )
            self.look(p, kind, target)
        self.truth["spikes"].append(_spike("activity:vote", start, start + 3600, "benign", kind))

    def bad_batch(self, n: int) -> None:
        w, r = self.w, self.rng
        shop = self.small_shop(int(r.integers(20, 60)))
        day = int(r.integers(2, DAYS - 9))
        for p in self.take(n):
            o = w.order(p, w.at(day + int(r.integers(0, 7)), p.hours), shop, price(r, 60, 0.4))
            if r.random() < 0.85:
                w.review(
                    p,
                    o,
                    shop,
                    o["created_at"] + float(r.uniform(1, 4)) * DAY,
                    int(r.choice([1, 1, 2])),
                    text=str(BAD_WORDS[int(r.integers(0, len(BAD_WORDS)))]),
                )
            if r.random() < 0.6:
                w.refund(p, o, o["created_at"] + float(r.uniform(1, 5)) * DAY, o["amount"], reason="quality")
            self.look(p, "bad_batch_buyer", shop)

    def families(self, n: int) -> None:
        w, r = self.w, self.rng
        for h in range(n):
            dev, ip, addr = w.device(), w.ipv4(), w.token("ad")
            for _ in range(int(r.integers(3, 6))):
                p = w.register(self.old(), device=dev, ip=ip, addr=addr)
                p.extra_devices = []
                self.live(p, 0.25, 0.4)
                self.look(p, "family_one_device", f"wfam{h:02d}")

    def resellers(self, n: int) -> None:
        w, r = self.w, self.rng
        for p in self.take(n):
            shop, item = w.shop(0, 100), f"i{int(r.integers(10**8, 10**9))}"
            unit = price(r, 40, 0.5)
            for _ in range(int(r.integers(30, 80))):
                o = w.order(p, w.at(w.day(), p.hours), shop, round(unit * int(r.integers(1, 4)), 2))
                o["item_id"] = item
                if r.random() < 0.03:
                    w.refund(p, o, o["created_at"] + 2 * DAY, o["amount"], reason="damaged")
            for camp in w.campaigns[: int(r.integers(1, 4))]:
                w.coupon(p, camp, "claim", camp["released_at"] + float(r.uniform(30, 4 * HOUR)))
            self.look(p, "reseller", shop)

    def night_shift(self, n: int) -> None:
        w, r = self.w, self.rng
        for _ in range(n):
            p = w.register(self.old(), hours=NIGHT)
            everyday(w, p, float(r.uniform(0.1, 0.4)), float(r.uniform(0.8, 2.5)), spin_p=0.6)
            self.look(p, "night_shift_worker", "night")

    def courier_phone(self, g: int, n: int) -> None:
        w, r = self.w, self.rng
        phone, ip, station = w.device(), w.ipv4(), w.token("ad")
        for _ in range(n):
            p = w.register(self.old(), device=phone, ip=ip, addr=station, channel="app")
            p.extra_devices, p.ip = [], ip
            self.live(p, 0.15, 0.1)
            if r.random() < 0.3:
                camp = w.campaigns[int(r.integers(0, len(w.campaigns)))]
                if p.registered < camp["released_at"]:
                    w.coupon(p, camp, "claim", camp["released_at"] + float(r.exponential(5 * HOUR)) + 300)
            self.look(p, "courier_shared_phone", f"courier{g}")

    def flash_sale(self, n: int) -> None:
        w, r = self.w, self.rng
        shop, item = w.shops[int(r.integers(0, 8))], f"i{int(r.integers(10**8, 10**9))}"
        busy = {int(c["released_at"] // DAY) for c in w.campaigns}  # no campaign to explain it away
        day = int(r.choice([d for d in range(2, DAYS - 3) if d not in busy]))
        start = day * DAY + 20 * HOUR
        unit = price(r, 99, 0.2)
        for p in self.take(n):
            t = start + float(np.clip(r.lognormal(np.log(240), 0.9), 3, 1790))
            o = w.order(p, t, shop, unit)
            o["item_id"] = item
            aftercare(w, p, o, review_p=0.35)
            self.look(p, "flash_sale_buyer", shop)
        self.truth["spikes"].append(_spike("orders", start, start + 1800, "benign", "flash_sale"))


def _spike(scope: str, start: float, end: float, kind: str, cause: str, cluster: str = "") -> dict:
    return {
        "scope": scope,
        "window_start": local_text(start),
        "window_end": local_text(end),
        "kind": kind,
        "campaign_id": "",
        "cause": cause,
        "cluster": cluster,
    }


def plant(w: World, seed: int, truth: dict, honest: list[Person]) -> dict:
    x = Wild(w, seed, truth, honest)
    r = x.rng
    cat = Catalog(w, int(r.integers(40, 90)), int(r.integers(600, 1500)), int(r.integers(80, 250)))
    organic_engagement(w, honest, cat, float(r.uniform(0.2, 0.5)))
    params: dict = {}
    params["scripted_timing"] = x.human_bots("W-bot", int(r.integers(10, 25)))
    params["vote_inflation"] = {
        f"W-drip{k + 1}": x.drip_votes(f"W-drip{k + 1}", cat) for k in range(int(r.integers(1, 4)))
    }
    params["extortion_ring"] = {
        f"W-ext{k + 1}": x.scattered_extortion(f"W-ext{k + 1}") for k in range(int(r.integers(1, 3)))
    }
    params["brushing_ring"] = {f"W-own{k + 1}": x.own_brushing(f"W-own{k + 1}") for k in range(int(r.integers(2, 5)))}
    params["serial_refunder"] = {
        f"W-ref{k + 1}": x.spread_refunders(f"W-ref{k + 1}") for k in range(int(r.integers(3, 7)))
    }
    params["coupon_hoarding"] = {f"W-rig{k + 1}": x.coupon_rig(f"W-rig{k + 1}") for k in range(int(r.integers(1, 4)))}
    x.group_vote("school_class_vote", cat, int(r.integers(30, 46)))
    x.group_vote("office_vote", cat, int(r.integers(15, 40)))
    x.bad_batch(int(r.integers(40, 80)))
    x.families(int(r.integers(5, 11)))
    x.resellers(int(r.integers(3, 7)))
    x.night_shift(int(r.integers(15, 31)))
    for g in range(2):
        x.courier_phone(g, int(r.integers(12, 26)))
    x.flash_sale(int(r.integers(300, 600)))
    params["releases"] = release_truth(w, truth)
    return params


def release_truth(w: World, truth: dict) -> dict:
    """The rigs (and any other planted batch) claim at release too: a release whose first ten
    minutes' claimers are mostly planted coupon_hoarding accounts is abusive (kind ``abusive``, cause ``rig_release``), one between 30% and 60%
    can't be called either way and loses its truth row (as tests/heldout/hard.py does)."""
    rigs = {r["account_id"]: r["cluster"] for r in truth["accounts"] if r["pattern"] == "coupon_hoarding"}
    shares = {}
    for camp in w.campaigns:
        rel, cid = camp["released_at"], camp["campaign_id"]
        first = {
            e["account_id"]
            for e in w.rows["coupon_events"]
            if e["campaign_id"] == cid and e["action"] == "claim" and rel <= e["ts"] < rel + 600
        }
        share = sum(a in rigs for a in first) / len(first) if first else 0.0
        shares[cid] = round(share, 3)
        scope = f"coupon_claims:{cid}"
        rows = [s for s in truth["spikes"] if s["scope"] == scope]
        if 0.3 <= share < 0.6:
            truth["spikes"] = [s for s in truth["spikes"] if s["scope"] != scope]
        elif share >= 0.6:
            clusters = sorted({rigs[a] for a in first if a in rigs})
            if rows:
                for s in rows:
                    s.update(kind="abusive", cause="rig_release", cluster=";".join(clusters))
            else:
                row = _spike(scope, rel, rel + 600, "abusive", "rig_release", ";".join(clusters))
                truth["spikes"].append({**row, "campaign_id": cid})
    return shares
