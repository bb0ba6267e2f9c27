"""Three more threats (``make_heldout --new-patterns``), written from the threat descriptions and
the data contract alone: vote/like/follow inflation by device farms, brushing crews ("刷单")
that buy fake orders and five-star reviews for client shops, and serial refunders. Every crew
draws its size, spread and camouflage from a wide range per seed, and most adapt (jitter,
proxies, real bought accounts, ordinary purchases, varied texts). Each threat comes with the
honest look-alikes a detector must leave alone. Everything here runs after the rest of the
world is built, so the default data set is untouched.

Also: an ordinary engagement life (people liking posts, voting in contests and following
creators) without which any vote at all would give a farm away.
"""

from __future__ import annotations

import numpy as np

from .life import END, aftercare, everyday, price
from .world import DAY, DAYS, DAYTIME, HOUR, Person, World


# helpers -------------------------------------------------------------------------------------
def _old(w: World, lo: float = 30, hi: float = 1200) -> float:
    return -float(w.rng.uniform(lo, hi)) * DAY + float(w.rng.uniform(8, 23)) * HOUR


def _live(w: World, p: Person, orders: float | None = None, sessions: float | None = None) -> Person:
    rng = w.rng
    everyday(
        w,
        p,
        orders if orders is not None else float(rng.lognormal(np.log(0.14), 0.7)),
        sessions if sessions is not None else float(rng.lognormal(np.log(0.3), 0.6)),
    )
    return p


def _shop_id(w: World) -> str:
    """A shop id in the platform's style that is not one of the world's ordinary shops."""
    return w._unique(lambda: f"{int(w.rng.integers(0, 10**6)):06d}")


def _hard(rng: np.random.Generator, stress: bool) -> float:
    """How far a crew has adapted, 0 (naive) .. 1 (careful); stress draws the careful end."""
    return float(rng.uniform(0.5, 1.0) if stress else rng.uniform(0.0, 1.0))


def _member(truth: dict, p: Person, pattern: str, cluster: str, role: str) -> None:
    truth["accounts"].append({"account_id": p.account_id, "pattern": pattern, "cluster": cluster, "role": role})


def _look(out: list[dict], p: Person, kind: str, group: str) -> None:
    out.append({"account_id": p.account_id, "lookalike": kind, "group": group})


def _click(rng: np.random.Generator) -> float:
    return float(np.clip(rng.lognormal(np.log(1.4), 0.6), 0.2, 20))


# the ordinary engagement life ------------------------------------------------------------------
class Catalog:
    """What people vote for, like and follow: creators (followed by account id), their posts
    (liked) and contest entries (voted for), each with a Zipf-like popularity."""

    def __init__(self, w: World, n_creators: int, n_posts: int, n_entries: int) -> None:
        rng = w.rng
        self.creators = [_live(w, w.register(_old(w, 60, 1500))) for _ in range(n_creators)]
        self.posts = [w._unique(lambda: f"note{int(rng.integers(10**9, 10**10))}") for _ in range(n_posts)]
        self.entries = [w._unique(lambda: f"entry-{rng.bytes(5).hex()}") for _ in range(n_entries)]
        self.post_p = self._zipf(n_posts, 1.05)
        self.entry_p = self._zipf(n_entries, 0.9)
        self.creator_p = self._zipf(n_creators, 1.0)
        self.used: set[str] = set()  # inflated or viral already: one story per target

    @staticmethod
    def _zipf(n: int, a: float) -> np.ndarray:
        p = 1.0 / np.arange(1, n + 1) ** a
        return p / p.sum()

    def draw(self, rng: np.random.Generator, action: str) -> str:
        if action == "like":
            return self.posts[int(rng.choice(len(self.posts), p=self.post_p))]
        if action == "vote":
            return self.entries[int(rng.choice(len(self.entries), p=self.entry_p))]
        return self.creators[int(rng.choice(len(self.creators), p=self.creator_p))].account_id

    def obscure(self, rng: np.random.Generator, action: str) -> str:
        """A target from the long tail, not yet part of another story: what a client pays to lift."""
        while True:
            if action == "like":
                target = self.posts[int(rng.integers(len(self.posts) // 5, len(self.posts)))]
            elif action == "vote":
                target = self.entries[int(rng.integers(len(self.entries) // 5, len(self.entries)))]
            else:
                target = self.creators[int(rng.integers(len(self.creators) // 4, len(self.creators)))].account_id
            if target not in self.used:
                self.used.add(target)
                return target


def organic_engagement(w: World, people: list[Person], cat: Catalog, share: float) -> None:
    """A share of ordinary people like, vote and follow now and then, in their own rhythm."""
    rng = w.rng
    for p in people:
        if rng.random() >= share:
            continue
        first = max(0, int(p.registered // DAY) + 1)
        if first >= DAYS:
            continue
        followed: set[str] = set()
        for _ in range(int(rng.poisson(float(rng.lognormal(np.log(0.35), 0.9)) * (DAYS - first)))):
            action = str(rng.choice(["like", "like", "like", "vote", "follow"]))
            target = cat.draw(rng, action)
            if action == "follow":
                if target in followed or target == p.account_id:
                    continue
                followed.add(target)
            ip = p.ip if rng.random() < 0.6 else w.carrier_nat[int(rng.integers(0, len(w.carrier_nat)))]
            w.act(p, w.at(w.day(first), p.hours), action, _click(rng), session=w.token(), target=target, ip=ip)


# 1. vote_inflation ---------------------------------------------------------------------------
def _target_action(rng: np.random.Generator) -> str:
    return str(rng.choice(["vote", "vote", "like", "like", "follow"]))


def _farm_accounts(
    w: World,
    n: int,
    *,
    reg_from: float,
    reg_span: float,
    devices: list[str] | None,
    ips: list[str] | None,
    virtual: float,
    waves: int = 1,
) -> list[Person]:
    """Accounts registered in waves on the farm's phones; a device list of None gives every
    account its own (emulated or reset) device id."""
    rng = w.rng
    reg_span = min(reg_span, -reg_from - DAY)  # all registered before the window opens
    starts = reg_from + np.sort(rng.random(waves)) * reg_span
    people = []
    for i in range(n):
        t = min(float(starts[i % waves] + rng.exponential(2 * HOUR)), -0.5 * DAY)
        device = devices[i % len(devices)] if devices else None
        ip = str(rng.choice(ips)) if ips else None
        p = w.register(
            t,
            prefix=w.phone_prefix(virtual=rng.random() < virtual),
            device=device,
            ip=ip,
            channel=str(rng.choice(["app", "app", "h5"])),
        )
        p.extra_devices = []
        if ips:
            p.ip = ip
        people.append(p)
    return people


def _warm_up(
    w: World, people: list[Person], rate: float, ips: list[str] | None = None, cat: Catalog | None = None
) -> None:
    """Farm phones kept looking alive: logins, a few views, likes on popular posts."""
    rng = w.rng
    for p in people:
        for _ in range(int(rng.poisson(rate * DAYS))):
            t = float(rng.uniform(max(0.0, p.registered), END))
            s = w.token()
            ip = str(rng.choice(ips)) if ips else None
            length = float(np.clip(rng.lognormal(np.log(60), 0.9), 3, 1800))
            w.act(p, t, "login", length, session=s, ip=ip)
            for _ in range(int(rng.poisson(1.2))):
                w.act(
                    p,
                    t + float(rng.uniform(1, length)),
                    "view",
                    float(rng.lognormal(np.log(12), 0.7)),
                    session=s,
                    target=w.shop(),
                    ip=ip,
                )
            if cat is not None and rng.random() < 0.4:
                w.act(
                    p,
                    t + float(rng.uniform(1, length)),
                    "like",
                    _click(rng),
                    session=s,
                    target=cat.draw(rng, "like"),
                    ip=ip,
                )


def rig(w: World, truth: dict, cat: Catalog, name: str, hard: float) -> dict:
    """A group-control rig: 100-200 real phones on a rack behind a few IPs; one command makes
    them all act within seconds. A careful operator jitters each phone by up to minutes, sends
    a share of the phones over mobile data, and keeps the phones looking alive."""
    rng = w.rng
    n = int(rng.integers(100, 201))
    n_ips = int(rng.integers(1, 5))
    net = w.ipv4().rsplit(".", 1)[0]
    ips = [w.ipv4(net) if rng.random() < 0.6 else w.ipv4() for _ in range(n_ips)]
    phones = [w.device() for _ in range(n)]
    people = _farm_accounts(
        w,
        n,
        reg_from=-float(rng.uniform(20, 400)) * DAY,
        reg_span=float(rng.uniform(1, 60)) * DAY,
        devices=phones,
        ips=ips,
        virtual=float(rng.uniform(0.1, 0.7)),
        waves=int(rng.integers(1, 6)),
    )
    for p in people:
        _member(truth, p, "vote_inflation", name, "rig_phone")
    jitter = float(2 + hard * rng.uniform(10, 600))  # seconds over which one command lands
    mobile = hard * float(rng.uniform(0.2, 0.7))  # share of actions sent over mobile data
    step = float(rng.uniform(0.01, 0.2))  # the script walks the phones in order
    n_targets = int(rng.integers(3, 13))
    targets = []
    for _ in range(n_targets):
        action = _target_action(rng)
        target = cat.obscure(rng, action)
        if (target, action) in {(t, a) for t, a, _ in targets}:
            continue
        jobs = int(rng.integers(1, 2 if action == "follow" else 8))  # daily vote rounds
        targets.append((target, action, jobs))
    for target, action, jobs in targets:
        truth["inflated_targets"].append({"cluster": name, "target_id": target, "action": action})
        day0 = int(rng.integers(0, DAYS - 1))
        order = rng.permutation(n)
        hour = float(rng.uniform(0, 24)) if hard < 0.5 else float(rng.uniform(9, 23))
        done: set[int] = set()
        for j in range(jobs):
            day = day0 + j * int(rng.integers(1, 3))
            if day >= DAYS:
                break
            start = day * DAY + (hour + float(rng.normal(0, 2 * hard))) % 24 * HOUR
            share = float(rng.uniform(0.6, 1.0))
            for k, i in enumerate(order):
                if rng.random() >= share or (action != "vote" and int(i) in done):
                    continue
                done.add(int(i))
                p = people[int(i)]
                t = start + k * step + float(rng.uniform(0, jitter))
                ip = (
                    w.carrier_nat[int(rng.integers(0, len(w.carrier_nat)))]
                    if rng.random() < mobile
                    else ips[int(i) % n_ips]
                )
                w.act(p, t, action, float(rng.uniform(0.3, 2.5)), session=w.token(), target=target, ip=ip)
    if hard > 0.3:
        _warm_up(w, people, 0.2 + hard * 0.6, ips, cat)
    return {
        "phones": n,
        "ips": n_ips,
        "jitter_s": round(jitter, 1),
        "mobile_share": round(mobile, 2),
        "targets": len(targets),
        "hard": round(hard, 2),
    }


def drip(w: World, truth: dict, cat: Catalog, name: str, hard: float) -> dict:
    """A slow-drip farm: a few hundred accounts on residential proxies (a new household IP for
    nearly every action), feeding each target a few votes an hour over days, in daytime."""
    rng = w.rng
    n = int(rng.integers(120, 351))
    n_devices = n if rng.random() < 0.5 else int(rng.integers(15, 60))  # reset ids, or an emulator pool
    devices = None if n_devices == n else [w.device() for _ in range(n_devices)]
    people = _farm_accounts(
        w,
        n,
        reg_from=-float(rng.uniform(10, 200)) * DAY,
        reg_span=float(rng.uniform(5, 90)) * DAY,
        devices=devices,
        ips=None,
        virtual=float(rng.uniform(0.0, 0.4)),
        waves=int(rng.integers(3, 12)),
    )
    for p in people:
        _member(truth, p, "vote_inflation", name, "drip")
    n_targets = int(rng.integers(3, 11))
    seen = set()
    for _ in range(n_targets):
        action = _target_action(rng)
        target = cat.obscure(rng, action)
        if (target, action) in seen:
            continue
        seen.add((target, action))
        truth["inflated_targets"].append({"cluster": name, "target_id": target, "action": action})
        span = int(rng.integers(2, 9))
        first = int(rng.integers(0, DAYS - span + 1))
        quota = int(rng.integers(60, min(n, 300) + 1))
        chosen = rng.choice(n, size=quota, replace=False)
        for i in chosen:
            p = people[int(i)]
            t = w.at(first + int(rng.integers(0, span)), DAYTIME)
            ip = w.ipv4() if rng.random() < 0.9 else w.carrier_nat[int(rng.integers(0, len(w.carrier_nat)))]
            w.act(p, t, action, _click(rng), session=w.token(), target=target, ip=ip)
    if hard > 0.2:
        _warm_up(w, people, 0.1 + hard * 0.5, None, cat)
    return {"accounts": n, "devices": n_devices, "targets": len(seen), "hard": round(hard, 2)}


def bought_mix(w: World, truth: dict, cat: Catalog, name: str, hard: float) -> dict:
    """Real accounts bought from their owners (years of ordinary life, own phones) mixed with
    fresh farm accounts on a handful of phones; each order is worked within a few hours."""
    rng = w.rng
    n_real, n_farm = int(rng.integers(30, 101)), int(rng.integers(20, 81))
    real = [_live(w, w.register(_old(w, 200, 2000))) for _ in range(n_real)]
    phones = [w.device() for _ in range(int(rng.integers(4, 16)))]
    proxies = [w.ipv4() for _ in range(int(rng.integers(2, 6)))]
    farm = _farm_accounts(
        w,
        n_farm,
        reg_from=-float(rng.uniform(5, 120)) * DAY,
        reg_span=float(rng.uniform(1, 20)) * DAY,
        devices=phones,
        ips=proxies,
        virtual=float(rng.uniform(0.2, 0.8)),
        waves=int(rng.integers(1, 4)),
    )
    for p in real:
        _member(truth, p, "vote_inflation", name, "bought_real")
    for p in farm:
        _member(truth, p, "vote_inflation", name, "farm")
    crew = real + farm
    farm_ids = {p.account_id for p in farm}
    n_targets = int(rng.integers(2, 7))
    seen = set()
    for _ in range(n_targets):
        action = _target_action(rng)
        target = cat.obscure(rng, action)
        if (target, action) in seen:
            continue
        seen.add((target, action))
        truth["inflated_targets"].append({"cluster": name, "target_id": target, "action": action})
        start = w.at(w.day(0, DAYS - 1), DAYTIME)
        median = float(rng.uniform(5, 20) + hard * rng.uniform(0, 120)) * 60
        for p in crew:
            if rng.random() >= float(rng.uniform(0.5, 0.95)):
                continue
            t = start + float(np.clip(rng.lognormal(np.log(median), 0.8), 5, 10 * HOUR))
            ip = str(rng.choice(proxies)) if p.account_id in farm_ids else None
            w.act(p, t, action, _click(rng), session=w.token(), target=target, ip=ip)
    _warm_up(w, farm, 0.1 + hard * 0.4, proxies, cat)
    return {"real": n_real, "farm": n_farm, "targets": len(seen), "hard": round(hard, 2)}


def packages(w: World, truth: dict, cat: Catalog, name: str, hard: float) -> dict:
    """A storefront that sells votes in packs: a client pays a recharge order for k packs of
    50 or 100, and exactly that many distinct farm accounts act on the client's target within
    hours. The clients are customers, not farm accounts, and are not in the truth."""
    rng = w.rng
    n = int(rng.integers(250, 601))
    devices = [w.device() for _ in range(int(rng.integers(20, 120)))] if rng.random() < 0.6 else None
    nets = [w.ipv4().rsplit(".", 1)[0] for _ in range(int(rng.integers(2, 12)))]
    people = _farm_accounts(
        w,
        n,
        reg_from=-float(rng.uniform(30, 300)) * DAY,
        reg_span=float(rng.uniform(5, 60)) * DAY,
        devices=devices,
        ips=None,
        virtual=float(rng.uniform(0.1, 0.6)),
        waves=int(rng.integers(2, 8)),
    )
    for p in people:
        p.ip = w.ipv4(str(rng.choice(nets)))
        _member(truth, p, "vote_inflation", name, "pack_farm")
    store = _shop_id(w)
    unit = int(rng.choice([50, 100]))
    per_vote = float(rng.uniform(0.08, 0.6))
    clients = []
    for c in range(int(rng.integers(4, 13))):
        client = _live(w, w.register(_old(w, 30, 900)))
        action = _target_action(rng)
        target = client.account_id if action == "follow" else cat.obscure(rng, action)
        truth["inflated_targets"].append({"cluster": name, "target_id": target, "action": action})
        for _ in range(int(rng.integers(1, 4))):  # repeat purchases
            k = int(rng.integers(1, max(2, min(6, n // unit) + 1)))
            when = w.at(w.day(0, DAYS - 1), client.hours)
            o = w.order(client, when, store, k * unit * per_vote, status="completed")
            o["item_id"] = f"pack{unit}"
            start = when + float(rng.uniform(5 * 60, 6 * HOUR))
            span = float(rng.uniform(0.2, 1.0) + hard * rng.uniform(0, 10)) * HOUR
            for i in rng.choice(n, size=k * unit, replace=False):
                p = people[int(i)]
                w.act(
                    p,
                    start + float(rng.uniform(0, span)),
                    action,
                    float(rng.uniform(0.3, 2.0)),
                    session=w.token(),
                    target=target,
                    ip=w.ipv4(str(rng.choice(nets))),
                )
        clients.append(client.account_id)
    if hard > 0.4:
        _warm_up(w, people, hard * 0.3, None, cat)
    return {"accounts": n, "unit": unit, "store_shop": store, "clients": clients, "hard": round(hard, 2)}


def viral(w: World, out: list[dict], people: list[Person], cat: Catalog) -> str:
    """A post that really takes off: hundreds of unrelated people over days, the rate decaying."""
    rng = w.rng
    post = cat.obscure(rng, "like")
    creator = cat.creators[int(rng.integers(0, len(cat.creators)))]
    start = w.at(int(rng.integers(1, DAYS - 6)), DAYTIME)
    for p in people:
        t = start + float(rng.exponential(float(rng.uniform(10, 40)) * HOUR))
        hour = (t % DAY) / HOUR
        if 1 <= hour < 7:
            t += 7 * HOUR  # asleep: they see it in the morning
        ip = p.ip if rng.random() < 0.5 else w.carrier_nat[int(rng.integers(0, len(w.carrier_nat)))]
        w.act(p, t, "like", _click(rng), session=w.token(), target=post, ip=ip)
        if rng.random() < 0.15:
            w.act(
                p,
                t + float(rng.uniform(3, 120)),
                "follow",
                _click(rng),
                session=w.token(),
                target=creator.account_id,
                ip=ip,
            )
        _look(out, p, "viral_post", post)
    return post


def office_vote(w: World, out: list[dict], n: int, cat: Catalog, g: int) -> None:
    """Colleagues voting for a colleague's contest entry from the office NAT, on a workday, in
    the minutes and hours after the link lands in the group chat; some vote again next day."""
    rng = w.rng
    nat = w.ipv4()
    entry = cat.obscure(rng, "vote")
    day = int(rng.choice([d for d in range(DAYS - 2) if (d + 5) % 7 < 5]))
    start = day * DAY + float(rng.uniform(9.5, 16)) * HOUR
    for _ in range(n):
        p = _live(w, w.register(_old(w)))
        t = start + float(np.clip(rng.lognormal(np.log(25 * 60), 1.1), 20, 8 * HOUR))
        w.act(p, t, "vote", _click(rng), session=w.token(), target=entry, ip=nat)
        if rng.random() < 0.35:
            w.act(
                p,
                t + DAY + float(rng.normal(0, 2 * HOUR)),
                "vote",
                _click(rng),
                session=w.token(),
                target=entry,
                ip=nat,
            )
        _look(out, p, "office_vote", f"office{g}")


def fan_base(w: World, out: list[dict], n: int, g: int) -> None:
    """A star's fans get a push on every new post and like it within minutes, post after post."""
    rng = w.rng
    star = _live(w, w.register(_old(w, 300, 1500)))
    fans = [_live(w, w.register(_old(w, 10, 1500), hours=DAYTIME)) for _ in range(n)]
    keen = rng.beta(2, 2, n)
    for _ in range(int(rng.integers(5, 16))):
        post = w._unique(lambda: f"note{int(rng.integers(10**9, 10**10))}")
        at = w.at(w.day(0, DAYS), DAYTIME)
        median = float(rng.uniform(2, 10)) * 60
        for f, p in enumerate(fans):
            if rng.random() < keen[f]:
                t = at + float(np.clip(rng.lognormal(np.log(median), 1.0), 4, 12 * HOUR))
                ip = p.ip if rng.random() < 0.5 else w.carrier_nat[int(rng.integers(0, len(w.carrier_nat)))]
                w.act(p, t, "like", _click(rng), session=w.token(), target=post, ip=ip)
    for p in fans:
        if rng.random() < 0.2:
            w.act(p, w.at(w.day(0), p.hours), "follow", _click(rng), session=w.token(), target=star.account_id)
        _look(out, p, "fan_base", star.account_id)


# 2. brushing_ring ----------------------------------------------------------------------------
PRAISE_HEAD = ("宝贝收到了", "收到货了", "东西很好", "非常满意", "第一次在这家买", "朋友推荐来的", "已经收到")
PRAISE_BODY = (
    "质量非常好，做工精细",
    "和描述的一模一样",
    "物流超快，包装很严实",
    "性价比超高",
    "颜色很正，没有色差",
    "用了几天才来评价，确实不错",
    "客服很耐心，回复及时",
    "面料舒服，上身效果好",
    "味道很好，家人都喜欢",
)
PRAISE_TAIL = ("五星好评！", "会回购的", "推荐大家购买", "值得入手", "👍👍👍", "好评！", "下次还来", "满分")
TEMPLATE = "{h}，{b}，{t}"


def _praise(rng: np.random.Generator, vary: float, fixed: list[str]) -> str:
    if rng.random() >= vary:
        return fixed[int(rng.integers(0, len(fixed)))]
    parts = [str(rng.choice(PRAISE_HEAD)), str(rng.choice(PRAISE_BODY))]
    if rng.random() < 0.5:
        parts.append(str(rng.choice(PRAISE_BODY)))
    parts.append(str(rng.choice(PRAISE_TAIL)))
    text = "，".join(parts) if rng.random() < 0.7 else " ".join(parts)
    return text + ("" if rng.random() < 0.6 else str(rng.choice(["~", "!", "😊", "❤️", "。"])))


def brushing_crew(w: World, truth: dict, name: str, hard: float, taken: set[str]) -> dict:
    """Part-timers' own accounts and bought ones that take brushing tasks from a chat group:
    order the client shop's listed item, post five stars with the praise template, get the money
    back off the platform (no refund), parcels (often empty) to a few drop addresses. One crew
    serves several shops, mostly in the days before each shop's promotion."""
    rng = w.rng
    size = int(rng.integers(25, 121))
    own_share = float(rng.uniform(0.4, 0.9))
    drops = [w.token("ad") for _ in range(int(rng.integers(2, 9)))]
    drop_share = float(rng.uniform(0.3, 0.95)) * (1 - 0.4 * hard)
    studio = [w.device() for _ in range(int(rng.integers(0, 7)))]
    studio_share = float(rng.uniform(0, 0.5)) * (1 - 0.6 * hard) if studio else 0.0
    crew = []
    for i in range(size):
        if rng.random() < own_share:  # a part-timer's own, lived-in account
            p = _live(w, w.register(_old(w, 90, 1800)), float(rng.uniform(0.04, 0.2)) * (0.5 + hard))
            role = "part_timer"
        else:  # a bought or fresh account with a thin life
            p = w.register(_old(w, 5, 120), prefix=w.phone_prefix(virtual=rng.random() < 0.3))
            _live(w, p, float(rng.uniform(0.0, 0.08)) + hard * 0.1, float(rng.uniform(0.05, 0.4)))
            role = "bought"
        crew.append(p)
        _member(truth, p, "brushing_ring", name, role)
    fixed = [
        TEMPLATE.format(h=str(rng.choice(PRAISE_HEAD)), b=str(rng.choice(PRAISE_BODY)), t=str(rng.choice(PRAISE_TAIL)))
        for _ in range(int(rng.integers(2, 6)))
    ]
    vary = float(rng.uniform(0.0, 0.3) + 0.7 * hard)
    pool = [s for s in w.shops[150:700] if s not in taken]
    n_shops = int(rng.integers(2, 7))
    clients = [str(s) for s in rng.choice(pool, size=n_shops, replace=False)]
    taken.update(clients)
    shops = []
    for shop in clients:
        truth["brushing_shops"].append({"cluster": name, "shop_id": shop})
        items = [
            (f"i{int(rng.integers(10**8, 10**9))}", price(rng, float(rng.uniform(25, 180)), 0.3))
            for _ in range(int(rng.integers(1, 4)))
        ]
        promo = int(rng.integers(5, DAYS))
        lead = int(rng.integers(2, 8) + hard * rng.integers(5, 20))
        tasks = int(rng.integers(20, 81))
        first = max(0, promo - lead)
        batches = max(1, tasks // int(rng.integers(5, 21)))
        for b in range(batches):  # the organiser posts a batch of tasks in the group
            posted = w.at(int(rng.integers(first, promo)), DAYTIME)
            for _ in range(tasks // batches):
                p = crew[int(rng.integers(0, size))]
                t = posted + float(np.clip(rng.lognormal(np.log(40 * 60), 1.0), 60, 20 * HOUR))
                item, listed = items[int(rng.integers(0, len(items)))]
                addr = str(rng.choice(drops)) if rng.random() < drop_share else None
                device = str(rng.choice(studio)) if studio and rng.random() < studio_share else None
                o = w.order(p, t, shop, listed, addr=addr, device=device, status="completed")
                o["item_id"] = item
                wait = (
                    float(np.clip(rng.lognormal(np.log(2 * HOUR), 1.0), 5 * 60, 2 * DAY))
                    if rng.random() > hard
                    else float(rng.uniform(1, 5)) * DAY
                )  # careful crews wait for the "delivery"
                stars = 5 if rng.random() > 0.08 * hard else 4
                w.review(p, o, shop, t + wait, stars, text=_praise(rng, vary, fixed))
        shops.append({"shop": shop, "promo_day": promo, "lead_days": lead, "tasks": tasks})
    return {
        "size": size,
        "own_share": round(own_share, 2),
        "drops": len(drops),
        "drop_share": round(drop_share, 2),
        "studio_devices": len(studio),
        "text_variety": round(vary, 2),
        "hard": round(hard, 2),
        "shops": shops,
    }


def launch_week(w: World, out: list[dict], people: list[Person]) -> str:
    """A new shop that catches on in its launch week: many unrelated buyers, many happy reviews."""
    rng = w.rng
    shop = _shop_id(w)
    launch = int(rng.integers(2, DAYS - 8))
    items = [(f"i{int(rng.integers(10**8, 10**9))}", price(rng, 60, 0.4)) for _ in range(int(rng.integers(3, 9)))]
    for p in people:
        day = launch + min(int(rng.exponential(2.0)), 6)
        item, listed = items[int(rng.integers(0, len(items)))]
        o = w.order(p, w.at(day, p.hours), shop, listed * float(rng.choice([1, 1, 0.9, 0.85])))
        o["item_id"] = item
        if rng.random() < 0.65:
            stars = int(rng.choice([5, 5, 5, 5, 5, 5, 4, 4, 3]))
            w.review(p, o, shop, o["created_at"] + float(rng.uniform(1, 7)) * DAY, stars)
        elif rng.random() < 0.05:
            aftercare(w, p, o, refund_p=1.0, review_p=0.0)
        _look(out, p, "launch_week_buyer", shop)
    return shop


LOYAL_TEXTS = ("老顾客了，一直在这家买", "回购", "又来买了，还是一样好", "第N次回购，放心", "一如既往的好", "")


def loyal_regulars(w: World, out: list[dict], people: list[Person], taken: set[str]) -> str:
    rng = w.rng
    shop = next(s for s in (w.shop(20, 200) for _ in range(100)) if s not in taken)
    staple = f"i{int(rng.integers(10**8, 10**9))}"
    for p in people:
        t = float(rng.uniform(0, 7)) * DAY
        every = float(rng.uniform(3, 10)) * DAY
        while t < END:
            o = w.order(p, w.at(int(t // DAY), p.hours), shop, price(rng, 45, 0.3))
            if rng.random() < 0.6:
                o["item_id"] = staple
            if rng.random() < 0.5:
                stars = 5 if rng.random() < 0.85 else 4
                w.review(
                    p,
                    o,
                    shop,
                    o["created_at"] + float(rng.uniform(0.5, 5)) * DAY,
                    stars,
                    text=str(rng.choice(LOYAL_TEXTS)),
                )
            t += every * float(rng.uniform(0.6, 1.5))
        _look(out, p, "loyal_regular", shop)
    return shop


def household_orders(w: World, out: list[dict], n: int) -> None:
    """Families: several accounts, one address, one home IP, often the same shops, happy reviews."""
    rng = w.rng
    for h in range(n):
        addr, ip, device = w.token("ad"), w.ipv4(), w.device()
        shops = [w.shop(0, 400) for _ in range(int(rng.integers(1, 4)))]
        for _ in range(int(rng.integers(2, 6))):
            p = w.register(_old(w), ip=ip, addr=addr, device=device if rng.random() < 0.4 else None)
            _live(w, p)
            for _ in range(int(rng.integers(2, 9))):
                o = w.order(p, w.at(w.day(0), p.hours), str(rng.choice(shops)), price(rng), addr=addr)
                if rng.random() < 0.5:
                    w.review(
                        p,
                        o,
                        o["shop_id"],
                        o["created_at"] + float(rng.uniform(0.5, 6)) * DAY,
                        5 if rng.random() < 0.8 else 4,
                    )
            _look(out, p, "household_orders", f"family{h:03d}")


# 3. serial_refunder --------------------------------------------------------------------------
FOOD_TEXTS = (
    "菜里吃出头发，要求全额退款",
    "外卖送到已经凉了还洒了一半",
    "食物变质有异味，吃了肚子疼",
    "少送了一份，要求退款",
    "吃出异物，太恶心了",
    "found a hair in the food, refund please",
)
GOODS_TEXTS = (
    "收到商品有破损",
    "与描述不符",
    "质量问题，要求退款",
    "尺码不对，做工很差",
    "快递丢件了",
    "item not as described",
    "商品有瑕疵，要求补偿",
)
FOOD_REASONS = ("食品安全", "food_quality", "missing_item", "异物")
GOODS_REASONS = ("damaged", "not_as_described", "quality", "lost_parcel")


def _claims(
    w: World,
    p: Person,
    hard: float,
    shops: list[str],
    n_orders: int,
    share: float,
    approve: float,
    texts: list[str],
    reasons: list[str],
    food: bool,
    addr: str | None,
    device: str | None,
) -> None:
    rng = w.rng
    first = max(0, int(p.registered // DAY) + 1)
    for _ in range(n_orders):
        t = w.at(w.day(min(first, DAYS - 1)), p.hours)
        shop = str(rng.choice(shops))
        o = w.order(p, t, shop, price(rng, 35 if food else 90, 0.6), addr=addr, device=device)
        if rng.random() >= share:
            if rng.random() < 0.3:
                w.review(p, o, shop, t + float(rng.uniform(0.1, 3)) * DAY, int(rng.choice([4, 5])))
            continue
        when = t + (float(rng.uniform(0.3, 5)) * HOUR if food else float(rng.uniform(1, 6)) * DAY)
        text = texts[int(rng.integers(0, len(texts)))]
        if hard > 0.5 and rng.random() < hard - 0.4:
            text = text + str(rng.choice(["", "！", "!!", "，请尽快处理", "。"]))
        reason = f"{rng.choice(reasons)}: {text}" if rng.random() < 0.6 else str(rng.choice(reasons))
        outcome = "approved" if rng.random() < approve else str(rng.choice(["rejected", "pending"]))
        if rng.random() < (0.5 if food else 0.3):  # compensation instead of, or on top of, a refund
            amount = (
                round(o["amount"] * float(rng.uniform(0.2, 1.0)), 2)
                if rng.random() < 0.5
                else float(rng.choice([5, 10, 15, 20, 30, 50]))
            )
            w.refund(p, o, when, amount, kind="compensation", reason=reason, outcome=outcome)
            if rng.random() < 0.3:
                w.refund(p, o, when + float(rng.uniform(0.1, 2)) * HOUR, o["amount"], reason=reason, outcome=outcome)
        else:
            w.refund(p, o, when, o["amount"], reason=reason, outcome=outcome)
        if rng.random() < 0.4:
            w.review(p, o, shop, when + float(rng.uniform(0, 12)) * HOUR, int(rng.choice([1, 1, 2])), text=text)


def serial_refunders(w: World, truth: dict, hard: float) -> dict:
    """Loners and small crews (sharing an address or a phone) who claim a refund or compensation
    on most orders across many shops, from a small set of reasons, pasting the same texts; a food
    crew that "eats for free" with the same complaints over and over."""
    rng = w.rng
    food_shops = [str(s) for s in rng.choice(w.shops[30:650], size=int(rng.integers(40, 90)), replace=False)]
    drawn = {"loners": 0, "crews": []}

    def one(
        p: Person,
        cluster: str,
        role: str,
        food: bool,
        texts: list[str],
        reasons: list[str],
        addr: str | None,
        device: str | None,
        cover: float,
    ) -> None:
        _live(w, p, cover * float(rng.uniform(0.02, 0.15)), float(rng.uniform(0.1, 0.6)))
        n_shops = int(rng.integers(8, 31))
        shops = food_shops[:] if food else [w.shop() for _ in range(n_shops)]
        shops = [str(s) for s in rng.choice(shops, size=min(n_shops, len(shops)), replace=False)]
        _claims(
            w,
            p,
            hard,
            shops,
            int(rng.integers(10, 41)),
            float(rng.uniform(0.55, 0.95)) * (1 - 0.25 * hard),
            float(rng.uniform(0.6, 0.95)),
            texts,
            reasons,
            food,
            addr,
            device,
        )
        _member(truth, p, "serial_refunder", cluster, role)

    for i in range(int(rng.integers(6, 21))):
        food = rng.random() < 0.4
        texts = list(rng.choice(FOOD_TEXTS if food else GOODS_TEXTS, size=int(rng.integers(1, 4)), replace=False))
        reasons = list(rng.choice(FOOD_REASONS if food else GOODS_REASONS, size=int(rng.integers(1, 3)), replace=False))
        one(
            w.register(_old(w, 20, 1500)),
            "",
            "loner_food" if food else "loner",
            food,
            texts,
            reasons,
            None,
            None,
            float(rng.uniform(0, 1)) + hard,
        )
        drawn["loners"] += 1
    for c in range(int(rng.integers(2, 6))):
        name = f"SR-{c + 1}"
        food = c == 0 or rng.random() < 0.4  # the first crew always eats for free
        size = int(rng.integers(2, 7)) + (int(rng.integers(0, 4)) if food else 0)
        texts = list(rng.choice(FOOD_TEXTS if food else GOODS_TEXTS, size=int(rng.integers(1, 3)), replace=False))
        reasons = list(rng.choice(FOOD_REASONS if food else GOODS_REASONS, size=int(rng.integers(1, 3)), replace=False))
        addr = w.token("ad")
        device = w.device()
        ties = str(rng.choice(["address", "device", "both"]))
        for _ in range(size):
            use_addr = addr if ties in ("address", "both") and rng.random() < 0.9 else None
            use_device = device if ties in ("device", "both") and rng.random() < 0.7 else None
            p = w.register(_old(w, 20, 1500), addr=use_addr, device=use_device)
            one(
                p,
                name,
                "crew_food" if food else "crew",
                food,
                texts,
                reasons,
                use_addr,
                use_device,
                float(rng.uniform(0, 1)) + hard,
            )
        drawn["crews"].append({"cluster": name, "size": size, "food": food, "ties": ties})
    drawn["hard"] = round(hard, 2)
    return drawn


def bad_luck(w: World, out: list[dict], people: list[Person], taken: set[str]) -> None:
    """Honest buyers who kept trying one bad seller and got several legitimate refunds there."""
    rng = w.rng
    for p in people:
        shop = next(s for s in (w.shop(60, 600) for _ in range(100)) if s not in taken)
        for _ in range(int(rng.integers(3, 7))):
            o = w.order(p, w.at(w.day(0, DAYS - 3), p.hours), shop, price(rng, 50, 0.5))
            if rng.random() < 0.75:
                w.refund(
                    p,
                    o,
                    o["created_at"] + float(rng.uniform(1, 6)) * DAY,
                    o["amount"],
                    reason=str(rng.choice(["damaged", "quality", "not_as_described", "wrong_size"])),
                )
                if rng.random() < 0.5:
                    w.review(p, o, shop, o["created_at"] + float(rng.uniform(1, 5)) * DAY, int(rng.choice([1, 2])))
        _look(out, p, "bad_luck_buyer", p.account_id)


ANGRY = (
    "这是我见过最差的店，必须给个说法",
    "客服一直不回，我要投诉到平台",
    "快递太慢了，要求补偿",
    "包装简陋，东西有划痕，要求赔偿",
    "和图片完全不一样，退货还要我出运费？",
    "差评！浪费我时间",
    "slow shipping, I want compensation",
    "颜色有色差，不满意",
)


def loud_complainers(w: World, out: list[dict], n: int) -> None:
    """Many complaints, few payouts: shops reject most of their claims."""
    rng = w.rng
    for _ in range(n):
        p = _live(w, w.register(_old(w)), 0.05, 0.4)
        for _ in range(int(rng.integers(10, 31))):
            o = w.order(p, w.at(w.day(0), p.hours), w.shop(), price(rng, 70))
            if rng.random() < float(rng.uniform(0.5, 0.85)):
                outcome = "approved" if rng.random() < float(rng.uniform(0.05, 0.2)) else "rejected"
                kind = "compensation" if rng.random() < 0.4 else "refund"
                amount = o["amount"] if kind == "refund" else float(rng.uniform(5, 40))
                w.refund(
                    p,
                    o,
                    o["created_at"] + float(rng.uniform(1, 6)) * DAY,
                    amount,
                    kind=kind,
                    reason=str(rng.choice(ANGRY)),
                    outcome=outcome,
                )
            if rng.random() < 0.6:
                w.review(
                    p,
                    o,
                    o["shop_id"],
                    o["created_at"] + float(rng.uniform(1, 6)) * DAY,
                    int(rng.choice([1, 1, 2, 2, 3])),
                    text=str(rng.choice(ANGRY)),
                )
        _look(out, p, "loud_complainer", "loud")


def recall(w: World, out: list[dict], people: list[Person], taken: set[str]) -> str:
    """A shop recalls a product: unrelated buyers of the past weeks are all refunded in days."""
    rng = w.rng
    shop = next(s for s in (w.shop(15, 150) for _ in range(100)) if s not in taken)
    day = int(rng.integers(12, DAYS - 4))
    item = f"i{int(rng.integers(10**8, 10**9))}"
    listed = price(rng, 80, 0.2)
    reason = str(rng.choice(["产品召回", "recall", "商家召回：批次质量问题"]))
    for p in people:
        o = w.order(p, w.at(int(rng.integers(0, day)), p.hours), shop, listed)
        o["item_id"] = item
        w.refund(
            p,
            o,
            day * DAY + float(rng.uniform(0, 4)) * DAY,
            o["amount"],
            reason=reason,
            delay=float(rng.uniform(0.1, 1.5)) * DAY,
        )
        _look(out, p, "product_recall_buyer", shop)
    return shop


# all of it -----------------------------------------------------------------------------------
def plant(w: World, truth: dict, honest: list[Person], stress: bool = False) -> dict:
    """Plants the three threats and their look-alikes; ``honest`` are ordinary people (no truth
    row, no look-alike row) some of whom are borrowed for the look-alikes."""
    rng = w.rng
    truth.setdefault("inflated_targets", [])
    truth.setdefault("brushing_shops", [])
    used = {r["account_id"] for r in truth["lookalikes"]} | {r["account_id"] for r in truth["accounts"]}
    free = [
        honest[int(i)]
        for i in rng.permutation(len(honest))
        if honest[int(i)].account_id not in used and honest[int(i)].registered < 0
    ]
    cursor = 0

    def take(k: int) -> list[Person]:
        nonlocal cursor
        cursor += k
        return free[cursor - k : cursor]

    cat = Catalog(w, int(rng.integers(40, 90)), int(rng.integers(600, 1500)), int(rng.integers(80, 250)))
    share = float(rng.uniform(0.3, 0.6))
    organic_engagement(w, honest, cat, share)
    params: dict = {"organic_share": round(share, 2), "vote_inflation": {}, "brushing_ring": {}}
    for k in range(int(rng.integers(1, 3))):
        params["vote_inflation"][f"V-rig{k + 1}"] = rig(w, truth, cat, f"V-rig{k + 1}", _hard(rng, stress))
    params["vote_inflation"]["V-drip"] = drip(w, truth, cat, "V-drip", _hard(rng, stress))
    params["vote_inflation"]["V-mix"] = bought_mix(w, truth, cat, "V-mix", _hard(rng, stress))
    params["vote_inflation"]["V-pack"] = packages(w, truth, cat, "V-pack", _hard(rng, stress))
    looks = truth["lookalikes"]
    params["viral_post"] = viral(w, looks, take(int(rng.integers(250, 800))), cat)
    for g in range(int(rng.integers(1, 4))):
        office_vote(w, looks, int(rng.integers(15, 61)), cat, g)
    for g in range(int(rng.integers(1, 3))):
        fan_base(w, looks, int(rng.integers(80, 300)), g)
    taken = {r["shop_id"] for r in truth["ring_shops"]}
    for k in range(int(rng.integers(2, 5))):
        params["brushing_ring"][f"BR-{k + 1}"] = brushing_crew(w, truth, f"BR-{k + 1}", _hard(rng, stress), taken)
    params["launch_shop"] = launch_week(w, looks, take(int(rng.integers(150, 400))))
    taken.add(params["launch_shop"])
    params["loyal_shop"] = loyal_regulars(w, looks, take(int(rng.integers(20, 61))), taken)
    taken.add(params["loyal_shop"])
    household_orders(w, looks, int(rng.integers(15, 31)))
    params["serial_refunder"] = serial_refunders(w, truth, _hard(rng, stress))
    bad_luck(w, looks, take(int(rng.integers(10, 26))), taken)
    loud_complainers(w, looks, int(rng.integers(8, 21)))
    params["recall_shop"] = recall(w, looks, take(int(rng.integers(60, 201))), taken)
    return params
