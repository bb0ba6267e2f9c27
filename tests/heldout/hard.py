"""``make_heldout --hard``: coupon-hoarding crews that adapt, the honest people they look like, and
spike incidents with truth. Written from the data contract, the issue texts and public reports
of how coupon-farming crews ("羊毛党") work, never from the project's generator or detectors.

Crews (truth pattern ``coupon_hoarding``, one cluster each, ``evasion`` naming their tactics):
maintained accounts registered in small waves over months, virtual-operator number blocks mixed
with real-operator numbers, one emulator device id per account, residential proxy exits (or the
mobile carriers' shared gateways), light fake activity to look alive, claims spread over the
first minutes after a release, redemption spread over days, cash-out by resale (orders just over
the threshold, of a few resale items, shipped to a few drop addresses) and refund loops on
"100 minus 20" (an order just over the threshold, refunded, the coupon given back and spent
again).

Incidents (truth/spikes.csv: scope, window_start, window_end, kind abusive|benign, cause,
cluster): registration waves of idle batches lasting 20 minutes to two days (pattern
``batch_registration``), a crew's own registration wave, release-time claim bursts that crews
dominate next to benign release crowds (the kind of every release is decided from the claims
actually written), hourly bot ticks at a fixed minute for several days, a TV-ad surge of new
people and orders, a flash sale, a referral wave over a day; and the benign bursts the base
world already holds (a TV ad, a campus orientation evening, an influencer's referral link).

Everything here draws from its own stream, ``np.random.default_rng([seed, 3303])``; the
world's own helpers (ids, rows) still use the world's stream, so only ``--hard`` output moves.
"""

from __future__ import annotations

import numpy as np

from .life import END, claim_and_use, everyday, ordinary_claims, price
from .world import (
    CARRIER_SEGMENTS,
    DAY,
    DAYS,
    DAYTIME,
    FIRST_WEEKDAY,
    HOUR,
    NIGHT,
    VIRTUAL_SEGMENTS,
    Person,
    World,
    local_text,
)

TAG = 3303
RESALE_ITEMS = 40  # item ids a crew's resale goods are drawn from
_WORK = np.zeros(24)
_WORK[9:18] = 1.0
WORK_HOURS = _WORK / _WORK.sum()  # an office's buyers


def _spike(scope: str, start: float, end: float, kind: str, cause: str, cluster: str = "", campaign: str = "") -> dict:
    return {
        "scope": scope,
        "window_start": local_text(start),
        "window_end": local_text(end),
        "kind": kind,
        "campaign_id": campaign,
        "cause": cause,
        "cluster": cluster,
    }


def _member(truth: dict, p: Person, pattern: str, cluster: str, role: str, evasion: list[str]) -> None:
    truth["accounts"].append(
        {"account_id": p.account_id, "pattern": pattern, "cluster": cluster, "role": role, "evasion": ";".join(evasion)}
    )


def _look(truth: dict, p: Person, kind: str, group: str) -> None:
    truth["lookalikes"].append({"account_id": p.account_id, "lookalike": kind, "group": group})


def within(draw, lo: float, hi: float, n: int | None = None):
    """Draws from ``draw(size)`` redrawn until inside [lo, hi]: truncated, not clipped (a clip
    piles the tail onto one instant, a burst no person or crew makes)."""
    x = np.atleast_1d(np.asarray(draw(1 if n is None else n), dtype=float))
    for _ in range(1000):
        bad = (x < lo) | (x > hi)
        if not bad.any():
            break
        x[bad] = draw(int(bad.sum()))
    x = np.clip(x, lo, hi)  # only after 1000 rounds of bad luck
    return float(x[0]) if n is None else x


def _weekday(day: int) -> bool:
    return (day + FIRST_WEEKDAY) % 7 < 5


class Hard:
    """The --hard plants over one world; ``busy`` keeps registration incidents on separate days."""

    def __init__(self, w: World, seed: int, truth: dict, ordinary: list[Person]) -> None:
        self.w, self.truth, self.ordinary = w, truth, ordinary
        self.r = np.random.default_rng([seed, TAG])
        self.busy: set[int] = set()
        self.params: dict = {"crews": {}, "waves": {}, "bots": {}, "benign": {}}
        used = {a["account_id"] for a in truth["accounts"]} | {a["account_id"] for a in truth["lookalikes"]}
        self.free = [p for p in ordinary if p.account_id not in used and p.registered < 0]
        self.r.shuffle(self.free)
        self._cursor = 0
        self.crew_campaigns: dict[str, set[str]] = {}

    # helpers -----------------------------------------------------------------------------------
    def take(self, k: int) -> list[Person]:
        self._cursor += k
        return self.free[self._cursor - k : self._cursor]

    def free_day(self, lo: int, hi: int) -> int:
        days = [d for d in range(lo, hi) if d not in self.busy and d - 1 not in self.busy and d + 1 not in self.busy]
        day = int(self.r.choice(days)) if days else int(self.r.integers(lo, hi))
        self.busy.add(day)
        return day

    def old(self, lo: float = 30, hi: float = 900) -> float:
        return -float(self.r.uniform(lo, hi)) * DAY + float(self.r.uniform(8, 23)) * HOUR

    def human(self, t: float, **kw) -> Person:
        p = self.w.register(t, **kw)
        everyday(self.w, p, float(self.r.lognormal(np.log(0.14), 0.6)), float(self.r.lognormal(np.log(0.35), 0.5)))
        return p

    def campaign(self, day: int, hour: int, face: float, threshold: float, limit: int, quota: int, name: str) -> dict:
        camp = {
            "campaign_id": "cp" + self.r.bytes(3).hex(),
            "name": name,
            "released_at": day * DAY + hour * HOUR,
            "face_value": float(face),
            "threshold": float(threshold),
            "per_account_limit": limit,
            "total_quota": quota,
            "issued": 0,
        }
        self.w.campaigns.append(camp)
        self.w.rows["campaigns"].append({k: v for k, v in camp.items() if k != "issued"})
        return camp

    # 1. the crews ---------------------------------------------------------------------------------
    def crew(self, name: str, kind: str, camps: list[dict]) -> dict:
        """One coupon-farming crew; ``kind`` maint (waves over months on residential proxies),
        fresh (one wave in the window on a few proxy subnets) or mobile (real numbers behind the
        carriers' shared gateways, fewer and slower claims)."""
        w, r = self.w, self.r
        size = int(
            r.integers(40, 111) if kind == "maint" else r.integers(30, 71) if kind == "fresh" else r.integers(25, 61)
        )
        tactics = ["own_devices", "claims_spread", "redeem_spread", "drop_addresses"]
        if kind == "fresh":
            day = self.free_day(1, 9)
            start = day * DAY + float(r.uniform(0, 23)) * HOUR
            span = float(r.uniform(1, 4)) * HOUR
            times = np.sort(start + r.random(size) * span)
            self.truth["spikes"].append(
                _spike(
                    "registrations",
                    float(times[0]),
                    float(times[-1]) + 60,
                    "abusive",
                    "a crew's registration wave",
                    name,
                )
            )
            tactics += ["single_wave", "mixed_segments", "proxy_subnets"]
        else:
            waves = int(r.integers(4, 9) if kind == "maint" else r.integers(3, 7))
            wave_at = np.sort(-r.uniform(5, 200, waves)) * DAY + r.uniform(9, 23, waves) * HOUR
            times = np.sort(
                np.concatenate(
                    [
                        t + r.random(k) * float(r.uniform(1, 8)) * HOUR
                        for t, k in zip(wave_at, np.bincount(r.integers(0, waves, size), minlength=waves))
                    ]
                )
            )
            tactics += ["waves", "fake_activity"]
            tactics += ["mixed_segments", "residential_proxy"] if kind == "maint" else ["real_numbers", "carrier_nat"]
        real_share = float(r.uniform(0.2, 0.7)) if kind != "mobile" else 1.0
        blocks = {
            str(r.choice(VIRTUAL_SEGMENTS)) + str(int(r.integers(0, 10))): int(r.integers(100, 900))
            for _ in range(int(r.integers(1, 4)))
        }
        subnets = [w.ipv4().rsplit(".", 1)[0] for _ in range(int(r.integers(3, 9)))]
        exits = [w.ipv4() for _ in range(int(r.integers(300, 2000)))]  # a residential proxy pool

        def ip() -> str:
            if kind == "maint":
                return exits[int(r.integers(0, len(exits)))]
            if kind == "fresh":
                return w.ipv4(subnets[int(r.integers(0, len(subnets)))])
            return w.carrier_nat[int(r.integers(0, len(w.carrier_nat)))]

        members = []
        for t in times:
            if r.random() < real_share:
                prefix = str(r.choice(CARRIER_SEGMENTS)) + f"{int(r.integers(0, 10000)):04d}"
            else:
                block = str(r.choice(list(blocks)))
                blocks[block] += int(r.integers(0, 4))  # number blocks bought in near-sequence
                prefix = f"{block}{blocks[block] % 1000:03d}"
            p = w.register(
                float(t),
                prefix=prefix,
                device=w.device(),
                ip=ip(),
                channel=str(r.choice(["app", "app", "mini_program"])),
                invited_by="",
            )
            p.extra_devices = []
            members.append(p)
            _member(self.truth, p, "coupon_hoarding", name, kind, tactics)
        drops = [w.token("ad") for _ in range(int(r.integers(2, 7)))]
        shops = [w.shop(0, 80) for _ in range(int(r.integers(3, 9)))]
        items = [f"i{700000000 + int(x)}" for x in r.choice(RESALE_ITEMS, size=int(r.integers(3, 9)), replace=False)]
        p_claim = float(r.uniform(0.75, 0.95) if kind != "mobile" else r.uniform(0.5, 0.8))
        median = float(r.uniform(30, 200) if kind != "mobile" else r.uniform(60, 400))
        sigma = float(r.uniform(0.5, 1.0))
        p_redeem = float(r.uniform(0.6, 0.9))
        p_loop = float(r.uniform(0.15, 0.45))
        if kind != "fresh":  # light fake activity to look alive
            rate = float(r.uniform(0.15, 0.7))
            for p in members:
                first = max(0.0, p.registered)
                for _ in range(int(r.poisson(rate * (END - first) / DAY))):
                    t = w.at(int(r.integers(int(first // DAY), DAYS)), DAYTIME)
                    if t < first:
                        continue
                    length = float(r.lognormal(np.log(45), 0.5))
                    session = w.token()
                    w.act(p, t, "login", length, session=session, ip=ip())
                    for _ in range(int(r.integers(0, 3))):
                        w.act(
                            p,
                            t + float(r.uniform(2, length)),
                            "view",
                            float(r.uniform(3, 20)),
                            session=session,
                            target=w.shop(0, 200),
                            ip=ip(),
                        )
        claimed = 0
        for camp in camps:
            self.crew_campaigns.setdefault(camp["campaign_id"], set()).add(name)
            release = camp["released_at"]
            for p in members:
                if p.registered >= release or r.random() >= p_claim:
                    continue
                for _ in range(int(camp.get("per_account_limit") or 1)):
                    t = release + within(lambda k: r.lognormal(np.log(median), sigma, k), 3, 3600)
                    self.hoard(p, camp, t, ip, drops, shops, items, p_redeem, p_loop)
                    claimed += 1
        drawn = {
            "kind": kind,
            "size": size,
            "tactics": tactics,
            "real_share": round(real_share, 2),
            "claim_median_s": round(median, 1),
            "p_claim": round(p_claim, 2),
            "p_loop": round(p_loop, 2),
            "drops": len(drops),
            "campaigns": [c["campaign_id"] for c in camps],
            "claims": claimed,
        }
        self.params["crews"][name] = drawn
        return drawn

    def hoard(
        self,
        p: Person,
        camp: dict,
        t: float,
        ip,
        drops: list[str],
        shops: list[str],
        items: list[str],
        p_redeem: float,
        p_loop: float,
    ) -> None:
        w, r = self.w, self.r
        cid = w.coupon(p, camp, "claim", t, ip=ip())
        if r.random() >= p_redeem:
            return  # held; expires or is sold on
        face, threshold = camp["face_value"], camp["threshold"]
        when = t + float(r.uniform(0.3, 6)) * DAY
        for loop in range(3):
            if when >= END:
                return
            gross = (
                threshold + float(r.choice([0.01, 0.1, 0.5, 0.9, 1.0, 2.0, 5.0]))
                if threshold
                else face + float(r.uniform(0.5, 8))
            )
            o = w.order(
                p,
                when,
                str(r.choice(shops)),
                gross - face,
                discount=face,
                coupon=cid,
                ip=ip(),
                addr=str(r.choice(drops)),
            )
            o["item_id"] = str(r.choice(items))
            w.coupon(p, camp, "redeem", when, cid, o, ip=ip())
            if loop == 2 or r.random() >= p_loop:
                return
            back = w.refund(
                p,
                o,
                when + float(r.uniform(0.5, 12)) * HOUR,
                o["amount"],
                reason=str(r.choice(["changed_mind", "七天无理由", "不想要了"])),
                delay=float(r.uniform(0.1, 1.0)) * DAY,
            )
            if back is None or back >= END:
                return
            w.coupon(p, camp, "return", back, cid, o, ip=ip())
            when = back + float(r.uniform(1, 24)) * HOUR

    # 2. idle registration waves ------------------------------------------------------------------
    def wave(self, name: str, shape: str) -> None:
        """A batch registered in one wave that then does nothing (pattern batch_registration)."""
        w, r = self.w, self.r
        if shape == "short":
            day, dur, size = self.free_day(2, DAYS - 2), float(r.uniform(20, 60)) * 60, int(r.integers(30, 81))
            start = day * DAY + float(r.uniform(9, 22)) * HOUR
        elif shape == "overnight":
            day, dur, size = self.free_day(2, DAYS - 2), float(r.uniform(3, 9)) * HOUR, int(r.integers(40, 121))
            start = day * DAY + float(r.uniform(-2, 2)) * HOUR  # 22:00 to 02:00
        else:
            day, dur, size = self.free_day(2, DAYS - 3), float(r.uniform(24, 48)) * HOUR, int(r.integers(80, 181))
            self.busy.update({day + 1, day + 2})
            start = day * DAY + float(r.uniform(8, 20)) * HOUR
        shared = [w.device() for _ in range(int(r.integers(2, 8)))]
        own = r.random() < 0.5
        subnets = [w.ipv4().rsplit(".", 1)[0] for _ in range(int(r.integers(2, 11)))]
        block = str(r.choice(VIRTUAL_SEGMENTS)) + str(int(r.integers(0, 10)))
        cursor, real = int(r.integers(100, 800)), float(r.uniform(0, 0.4))
        tactics = [f"{shape}_wave", "own_devices" if own else "shared_devices", "proxy_subnets"]
        times = np.sort(start + r.random(size) * dur)
        for t in times:
            cursor += int(r.integers(0, 3))
            prefix = (
                str(r.choice(CARRIER_SEGMENTS)) + f"{int(r.integers(0, 10000)):04d}"
                if r.random() < real
                else f"{block}{cursor % 1000:03d}"
            )
            p = w.register(
                float(t),
                prefix=prefix,
                device=w.device() if own else str(r.choice(shared)),
                ip=w.ipv4(str(r.choice(subnets))),
                channel=str(r.choice(["h5", "app"])),
                invited_by="",
            )
            _member(self.truth, p, "batch_registration", name, "idle", tactics)
        self.truth["spikes"].append(
            _spike(
                "registrations",
                float(times[0]),
                float(times[-1]) + 60,
                "abusive",
                f"{shape} registration wave of an idle batch",
                name,
            )
        )
        self.params["waves"][name] = {
            "shape": shape,
            "size": size,
            "start": local_text(float(times[0])),
            "hours": round(dur / HOUR, 2),
            "own_devices": own,
        }

    # 3. hourly bot ticks ---------------------------------------------------------------------------
    def ticks(self, name: str) -> None:
        w, r = self.w, self.r
        n = int(r.integers(8, 26))
        minute = int(r.choice([m for m in range(3, 58) if m not in (29, 30, 31)]))
        jitter = float(r.uniform(2, 25))
        first, days = int(r.integers(1, DAYS - 8)), int(r.integers(3, 8))
        action = str(r.choice(["lottery_spin", "sign_in", "lottery_spin"]))
        tactics = ["fixed_minute", "jitter", "few_days"]
        start = first * DAY + int(r.integers(0, 24)) * HOUR + minute * 60
        stop = start + days * DAY
        bots = []
        for _ in range(n):
            p = w.register(self.old(20, 400))
            if r.random() < 0.4:
                everyday(w, p, 0.03, 0.05)
            bots.append(p)
            _member(self.truth, p, "scripted_timing", name, "hourly_tick", tactics)
        last = start
        for tick in np.arange(start, stop, HOUR):
            for p in bots:
                if r.random() < 0.95:
                    t = float(tick) + float(r.uniform(0, jitter))
                    w.act(p, t, action, float(r.uniform(0.5, 1.5)), session=w.token())
                    last = max(last, t)
        self.truth["spikes"].append(
            _spike(
                f"activity:{action}",
                start,
                last + 60,
                "abusive",
                f"hourly bot ticks at :{minute:02d} for {days} days",
                name,
            )
        )
        self.params["bots"][name] = {
            "accounts": n,
            "minute": minute,
            "jitter_s": round(jitter, 1),
            "days": days,
            "action": action,
            "start": local_text(start),
        }

    # 4. honest look-alikes and benign bursts -------------------------------------------------------
    def deal_hunters(self, camps: list[dict], leaked: dict | None = None) -> None:
        """People who claim every coupon within seconds of its release, with human reaction times,
        and spend it days later on their own ordinary orders. ``leaked`` is a coupon whose link went
        round the crews' chat groups first: few hunters know of it."""
        r = self.r
        people = [self.human(self.old(60, 1500)) for _ in range(int(r.integers(30, 91)))]
        p_claim = float(r.uniform(0.35, 0.8))
        for p in people:
            _look(self.truth, p, "deal_hunter", "deal_hunters")
            reaction = float(r.uniform(3, 9))  # this person's median seconds from release to tap
            for camp in camps:
                if r.random() < p_claim * (0.25 if camp is leaked else 1.0):
                    delay = within(lambda k: r.lognormal(np.log(reaction), 0.8, k), 1.2, 180)
                    claim_and_use(self.w, p, camp, camp["released_at"] + delay, redeem_p=0.6)
        self.params["benign"]["deal_hunters"] = {"accounts": len(people), "p_claim": round(p_claim, 2)}

    def release_crowd(self, camp: dict) -> None:
        """Ordinary people who were waiting for this release: claims in the first minutes."""
        r = self.r
        crowd = [p for p in self.take(int(r.integers(120, 260))) if p.registered < camp["released_at"]]
        median = float(r.uniform(30, 120))
        for p in crowd:
            delay = within(lambda k: r.lognormal(np.log(median), 0.9, k), 2, 1800)
            claim_and_use(self.w, p, camp, camp["released_at"] + delay, redeem_p=0.55)
            _look(self.truth, p, "release_crowd", camp["campaign_id"])
        self.params["benign"]["release_crowd"] = {
            "campaign": camp["campaign_id"],
            "accounts": len(crowd),
            "median_s": round(median, 1),
        }

    def flash_sale(self, camp: dict) -> None:
        """A one-hour flash sale at one shop: a no-threshold coupon claimed and spent at once."""
        w, r = self.w, self.r
        shop = w.shop(0, 30)
        people = self.take(int(r.integers(150, 350)))
        t0 = camp["released_at"]
        for p in people:
            t = t0 + within(lambda k: r.gamma(1.5, 600, k), 5, 3500)
            cid = w.coupon(p, camp, "claim", t)
            when = t + float(r.uniform(20, 300))
            o = w.order(p, when, shop, price(r, 60, 0.5) + camp["face_value"], discount=camp["face_value"], coupon=cid)
            w.coupon(p, camp, "redeem", when, cid, o)
            _look(self.truth, p, "flash_sale_buyer", camp["campaign_id"])
        end = t0 + HOUR
        self.truth["spikes"].append(
            _spike(
                f"coupon_claims:{camp['campaign_id']}", t0, end, "benign", "flash sale", campaign=camp["campaign_id"]
            )
        )
        self.truth["spikes"].append(_spike("orders", t0, end, "benign", "flash sale", campaign=camp["campaign_id"]))
        self.params["benign"]["flash_sale"] = {
            "campaign": camp["campaign_id"],
            "shop": shop,
            "buyers": len(people),
            "start": local_text(t0),
        }

    def tv_ad(self) -> None:
        """A TV ad at night: new people register and order in the next hour, old ones order too."""
        w, r = self.w, self.r
        day = self.free_day(3, DAYS - 2)
        t0 = day * DAY + float(r.uniform(19.5, 21.5)) * HOUR
        shop = w.shop(0, 20)
        new = []
        for delay in np.sort(within(lambda k: r.gamma(2.0, 900, k), 10, 3590, int(r.integers(60, 151)))):
            p = w.register(t0 + float(delay), channel=str(r.choice(["app", "app", "web"])))
            new.append(p)
            _look(self.truth, p, "tv_ad_surge", f"tv-{day}")
            if r.random() < 0.45:
                w.order(p, p.registered + float(r.uniform(60, 900)), shop, price(r, 80, 0.4))
            everyday(w, p, float(r.lognormal(np.log(0.1), 0.6)), float(r.lognormal(np.log(0.3), 0.5)))
        for p in self.take(int(r.integers(50, 151))):
            w.order(p, t0 + float(r.uniform(60, 3500)), shop, price(r, 80, 0.4))
            _look(self.truth, p, "tv_ad_surge", f"tv-{day}")
        self.truth["spikes"].append(_spike("registrations", t0, t0 + HOUR, "benign", "TV ad"))
        self.truth["spikes"].append(_spike("orders", t0, t0 + HOUR, "benign", "TV ad"))
        self.params["benign"]["tv_ad"] = {"start": local_text(t0), "new": len(new), "shop": shop}

    def referral_wave(self) -> None:
        r = self.r
        day = self.free_day(2, DAYS - 3)
        self.busy.add(day + 1)
        star = self.take(1)[0]
        t0 = day * DAY + float(r.uniform(10, 20)) * HOUR
        n = int(r.integers(100, 251))
        mean = float(r.uniform(4, 9)) * HOUR
        for delay in np.sort(within(lambda k: r.exponential(mean, k), 30, 30 * HOUR, n)):
            p = self.human(t0 + float(delay), invited_by=star.account_id)
            _look(self.truth, p, "referral_wave", star.account_id)
        _look(self.truth, star, "referral_wave", star.account_id)
        self.truth["spikes"].append(_spike("registrations", t0, t0 + DAY, "benign", "referral wave"))
        self.params["benign"]["referral_wave"] = {
            "start": local_text(t0),
            "invited": n,
            "mean_h": round(mean / HOUR, 1),
        }

    def cafe(self, camps: list[dict]) -> None:
        """An internet cafe: unrelated regulars on a few machines behind one IP, human hours, some
        claiming the week's coupons and spending them on their own orders."""
        w, r = self.w, self.r
        ip, machines = w.ipv4(), [w.device() for _ in range(int(r.integers(2, 7)))]
        for _ in range(int(r.integers(20, 51))):
            t = self.old(20, 700) if r.random() < 0.8 else w.at(int(r.integers(0, DAYS - 3)))
            p = w.register(t, device=str(r.choice(machines)), ip=ip)
            p.ip, p.extra_devices = ip, []
            everyday(w, p, float(r.uniform(0.05, 0.25)), float(r.uniform(0.5, 2.0)))
            for camp in camps:
                if r.random() < 0.25 and p.registered < camp["released_at"]:
                    claim_and_use(
                        w, p, camp, camp["released_at"] + float(r.uniform(0.5, 30)) * HOUR, device=p.device, ip=ip
                    )
            _look(self.truth, p, "cafe_coupon_user", "cafe")

    def work_phones(self, camps: list[dict]) -> None:
        """Delivery riders or shop staff sharing one work phone, each with a number, address and life."""
        w, r = self.w, self.r
        for g in range(int(r.integers(2, 5))):
            phone = w.device()
            for _ in range(int(r.integers(4, 16))):
                p = w.register(self.old(10, 600), device=phone)
                p.extra_devices = [phone]
                everyday(w, p, float(r.uniform(0.1, 0.35)), float(r.uniform(0.3, 1.2)))
                for camp in camps:
                    if r.random() < 0.2 and p.registered < camp["released_at"]:
                        claim_and_use(w, p, camp, camp["released_at"] + float(r.uniform(0.2, 20)) * HOUR, device=phone)
                _look(self.truth, p, "shared_work_phone", f"station{g}")

    def procurement(self, camps: list[dict]) -> None:
        """A company's buyers: onboarded the same afternoon from the office, shipping to one
        address in working hours, using threshold coupons on large orders."""
        w, r = self.w, self.r
        for g in range(int(r.integers(1, 3))):
            office, addr = w.ipv4(), w.token("ad")
            onboard = -float(r.integers(30, 400)) * DAY + float(r.uniform(13, 16)) * HOUR
            for _ in range(int(r.integers(5, 21))):
                p = w.register(
                    onboard + float(r.uniform(0, 2)) * HOUR, ip=office, addr=addr, hours=WORK_HOURS, channel="web"
                )
                p.ip = office
                for _ in range(int(r.poisson(0.4 * DAYS))):
                    day = w.day()
                    if _weekday(day):
                        o = w.order(p, w.at(day, p.hours), w.shop(0, 150), price(r, 400, 0.7), addr=addr, ip=office)
                        if r.random() < 0.02:
                            w.refund(
                                p, o, o["created_at"] + float(r.uniform(1, 6)) * DAY, o["amount"], reason="damaged"
                            )
                for camp in camps:
                    if camp["threshold"] and r.random() < 0.5:
                        t = camp["released_at"] + float(r.uniform(1, 30)) * HOUR
                        if END > t and _weekday(int(t // DAY)):
                            cid = w.coupon(p, camp, "claim", t, ip=office)
                            when = t + float(r.uniform(0.1, 2)) * DAY
                            if when < END:
                                o = w.order(
                                    p,
                                    when,
                                    w.shop(0, 150),
                                    price(r, 400, 0.5) + camp["threshold"],
                                    discount=camp["face_value"],
                                    coupon=cid,
                                    addr=addr,
                                    ip=office,
                                )
                                w.coupon(p, camp, "redeem", when, cid, o, ip=office)
                _look(self.truth, p, "procurement", f"company{g}")

    def office_vote(self) -> None:
        w, r = self.w, self.r
        nat, target = w.ipv4(), w.token("entry")
        day = int(r.choice([d for d in range(DAYS - 2) if _weekday(d)]))
        start = day * DAY + float(r.uniform(9.5, 16)) * HOUR
        for _ in range(int(r.integers(20, 61))):
            p = self.human(self.old())
            t = start + within(lambda k: r.lognormal(np.log(30 * 60), 1.0, k), 20, 8 * HOUR)
            w.act(p, t, "vote", float(r.uniform(2, 15)), session=w.token(), target=target, ip=nat)
            _look(self.truth, p, "office_vote", target)

    def quality_shop(self, camps: list[dict]) -> None:
        """A shop with a real quality problem during a coupon week: buyers spent a threshold coupon
        there, got junk, rated it low and were refunded; the coupon came back to them."""
        w, r = self.w, self.r
        taken = {s["shop_id"] for s in self.truth["ring_shops"]}
        shop = next(s for s in (w.shop(40, 250) for _ in range(200)) if s not in taken)
        camp = next((c for c in camps if c["threshold"]), camps[0])
        for p in self.take(int(r.integers(20, 61))):
            t = camp["released_at"] + float(r.uniform(1, 48)) * HOUR
            cid = w.coupon(p, camp, "claim", t)
            when = t + float(r.uniform(0.2, 3)) * DAY
            if when >= END - 2 * DAY:
                continue
            gross = camp["threshold"] + float(r.uniform(1, 40))
            o = w.order(p, when, shop, gross - camp["face_value"], discount=camp["face_value"], coupon=cid)
            w.coupon(p, camp, "redeem", when, cid, o)
            w.review(p, o, shop, when + float(r.uniform(1, 4)) * DAY, int(r.choice([1, 1, 2, 3])))
            if r.random() < 0.7:
                back = w.refund(p, o, when + float(r.uniform(1, 5)) * DAY, o["amount"], reason="quality")
                if back is not None and back < END:
                    w.coupon(p, camp, "return", back, cid, o)
            _look(self.truth, p, "quality_problem_shop", shop)

    def night_shift(self, camps: list[dict]) -> None:
        w, r = self.w, self.r
        for _ in range(int(r.integers(20, 41))):
            p = w.register(self.old(60, 900), hours=NIGHT)
            everyday(w, p, float(r.uniform(0.2, 0.5)), float(r.uniform(3, 8)), spin_p=0.6)
            for camp in camps:
                if r.random() < 0.4 and p.registered < camp["released_at"]:
                    t = w.at(int(camp["released_at"] // DAY) + int(r.integers(0, 2)), NIGHT)
                    if t > camp["released_at"]:
                        claim_and_use(w, p, camp, t, redeem_p=0.5)
            _look(self.truth, p, "night_shift_coupon", "night")

    # the releases' truth, decided from the claims written --------------------------------------
    def release_truth(self) -> None:
        planted = {a["account_id"] for a in self.truth["accounts"] if a["pattern"] == "coupon_hoarding"}
        crews = {a["account_id"]: a["cluster"] for a in self.truth["accounts"] if a["pattern"] == "coupon_hoarding"}
        first: dict[str, set[str]] = {c["campaign_id"]: set() for c in self.w.campaigns}
        release = {c["campaign_id"]: c["released_at"] for c in self.w.campaigns}
        for e in self.w.rows["coupon_events"]:
            c = e["campaign_id"]
            if e["action"] == "claim" and c in release and release[c] <= e["ts"] < release[c] + 600:
                first[c].add(e["account_id"])
        decided = {}
        flash = {s["campaign_id"] for s in self.truth["spikes"] if s.get("cause") == "flash sale"}
        for c, accs in first.items():
            if c in flash or not 0 <= release[c] < END:
                continue
            share = len(accs & planted) / len(accs) if accs else 0.0
            kind = (
                "abusive" if share >= 0.6 and len(accs) >= 15 else "benign" if share <= 0.3 and len(accs) >= 25 else ""
            )
            decided[c] = {
                "first10_claimers": len(accs),
                "planted_share": round(share, 3),
                "kind": kind or "none",
                "released_at": local_text(release[c]),
            }
            if kind:
                names = sorted({crews[a] for a in accs & planted})
                self.truth["spikes"].append(
                    _spike(
                        f"coupon_claims:{c}",
                        release[c],
                        release[c] + 600,
                        kind,
                        "release claimed mostly by crews" if kind == "abusive" else "release crowd",
                        ";".join(names) if kind == "abusive" else "",
                        campaign=c,
                    )
                )
        self.params["releases"] = decided


def base_benign_truth(truth: dict, tv_day: int, campus_day: int, referral_day: int) -> None:
    """The benign registration bursts the base world plants (look.tv_ad, look.campus, look.referral),
    with their truth rows; the base flash-sale row is decided again from the claims."""
    truth["spikes"][:] = [s for s in truth["spikes"] if not s["scope"].startswith("coupon_claims")]
    tv = tv_day * DAY + 20 * HOUR
    truth["spikes"].append(_spike("registrations", tv, tv + 1200, "benign", "TV ad (base world)"))
    campus = campus_day * DAY + 19 * HOUR
    truth["spikes"].append(
        _spike("registrations", campus, campus + 3 * HOUR, "benign", "campus orientation evening (base world)")
    )
    ref = referral_day * DAY + 19 * HOUR
    truth["spikes"].append(_spike("registrations", ref, ref + 27 * HOUR, "benign", "referral link (base world)"))


def plant(w: World, seed: int, truth: dict, ordinary: list[Person], busy_days: set[int]) -> dict:
    h = Hard(w, seed, truth, ordinary)
    h.busy |= busy_days
    r = h.r
    # campaigns of the hard mode, on the hour (local time)
    used = {int(c["released_at"] // DAY) for c in w.campaigns}
    days = [d for d in range(9, DAYS - 2) if d not in used]
    a, b, f = (int(x) for x in r.choice(days, size=3, replace=False))
    hoarded = h.campaign(a, int(r.choice([10, 12, 20])), 20, 100, 2, 4000, "100减20")
    crowded = h.campaign(b, int(r.choice([10, 20])), 15, 99, 1, 6000, "99减15")
    flash = h.campaign(f, int(r.choice([12, 20])), float(r.choice([10, 15, 30])), 0, 1, 5000, "限时秒杀")
    ordinary_claims(w, ordinary, hoarded, float(r.uniform(0.01, 0.04)))  # a leaked link: few people see it
    ordinary_claims(w, ordinary, crowded, float(r.uniform(0.04, 0.1)))
    base = [c for c in w.campaigns[:6] if c["threshold"]]
    kinds = ["maint", "fresh", "mobile"] + (["maint"] if r.random() < 0.5 else [])
    for i, kind in enumerate(kinds):
        extra = [base[int(j)] for j in r.choice(len(base), size=int(r.integers(1, 4)), replace=False)]
        h.crew(f"H-{kind}{i + 1}", kind, [hoarded] + extra)
    shapes = ["short", "overnight", "days"]
    r.shuffle(shapes)
    for k, shape in enumerate(shapes[: int(r.integers(2, 4))]):
        h.wave(f"W-{k + 1}", shape)
    for k in range(int(r.integers(1, 3))):
        h.ticks(f"T-{k + 1}")
    thresholds = [c for c in w.campaigns if c["threshold"]]
    h.deal_hunters([c for c in w.campaigns if c is not flash], leaked=hoarded)
    h.release_crowd(crowded)
    h.flash_sale(flash)
    h.tv_ad()
    h.referral_wave()
    h.cafe(thresholds)
    h.work_phones(thresholds)
    h.procurement(thresholds)
    h.office_vote()
    h.quality_shop(thresholds)
    h.night_shift(thresholds)
    h.release_truth()
    h.params["campaigns"] = {
        "hoarded": hoarded["campaign_id"],
        "crowded": crowded["campaign_id"],
        "flash": flash["campaign_id"],
    }
    return h.params
