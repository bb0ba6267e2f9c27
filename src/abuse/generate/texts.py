"""Review texts, refund reasons and campaign names: Chinese and English, emoji, commas,
quotes and the odd line break, so that every file format has to carry them intact."""

from __future__ import annotations

import numpy as np

POSITIVE = [
    "质量很好，物流也快👍",
    "和描述一致，满意！",
    "第二次购买了，一如既往的好",
    "包装很用心，点赞",
    "性价比高, 推荐购买",
    "Great quality, fast shipping!",
    "Exactly as described 😊",
    "客服态度好，耐心解答",
    "Good value for money, would buy again",
    "宝贝收到了，孩子很喜欢❤️",
    "味道不错，就是包装有点简单",
    'Nice, my "go-to" shop now',
    "颜色正，尺码标准",
    "物流超快，隔天就到了🚚",
    "很好用，\n已经推荐给朋友",
    "Works fine. Battery lasts long.",
    "做工精细，没有异味",
    "还行吧，对得起这个价格",
]
NEUTRAL = [
    "一般般，凑合用",
    "It's ok, nothing special",
    "包装有点破损，东西还好",
    "物流慢了点，东西没问题",
    "颜色和图片有点差别",
    "Size runs a bit small, otherwise fine",
    "中规中矩",
    "还可以，就是发货慢",
]
NEGATIVE = [
    "质量太差了，用了两天就坏了😡",
    "和图片完全不一样，失望",
    "Arrived broken, very disappointed",
    "客服不回消息，差评",
    "味道很怪，不敢吃",
    "尺码严重偏小, 退了",
    "物流太慢了，等了十天",
    "Item smells bad and the stitching is loose",
    "发错货了，联系客服也没用",
    "感觉是假货，和专柜的不一样",
    "质量一般,\n不推荐",
    'Stopped working after a week. "Quality" product indeed',
]
FOLLOW_UPS = [
    "追评：用了一周，还不错",
    "客服处理了，加一星",
    "updated: seller fixed it",
    "",
    "追加评价：问题已解决",
    "换货后正常了👌",
    "Update: replacement works",
    "",
]
BAD_SHOP = [
    "又是坏的！这家店质量控制有问题",
    "收到就是坏的，申请退款",
    "Broken on arrival, second time from this shop",
    "做工很差，线头到处都是",
    "完全不能用，要求退货",
    "感觉是假货，包装都是旧的",
    "Cheap knock-off, asked for a refund",
    "发霉了！！！",
    "和描述不符，已投诉",
    "货不对板，退款处理很慢",
]
RING_TEMPLATES = [
    "{a}，{b}！{c}，否则{d}",
    "{a}。{b}，{c}。",
    "{b}！！{a}，{d}",
    "{e}. {f}, {g}",
    "{e}!! {g} {f}",
    "{a} {b} {c}",
]
RING_WORDS = {
    "a": ["假货", "三无产品", "质量严重不合格", "虚假宣传", "收到的是假货", "和描述严重不符"],
    "b": ["要求赔偿", "必须退一赔三", "假一赔十", "要求精神损失费", "不赔偿就差评到底"],
    "c": ["已经截图保存证据", "马上联系我", "24小时内处理", "给个说法"],
    "d": ["投诉到12315", "找工商举报", "曝光你们店", "向消协投诉"],
    "e": ["Fake product", "Counterfeit item", "False advertising", "Total scam"],
    "f": ["pay me compensation", "I want compensation now", "refund plus compensation"],
    "g": ["or else I report you", "or I go to consumer protection", "or else more bad reviews"],
}
OPENERS = ["", "", "", "亲，", "店家，", "老板你好，", "Hello, ", "收到货了，"]
CLOSERS = ["", "", "", "。", "，别装死", "，等你回复", " 有图有真相", ". Waiting for reply"]
EMOJI = ["", "", "", "😡", "🤬", "💢", "！", "!!"]
REFUND_REASONS = [
    "不想要了",
    "尺码不合适",
    "质量问题",
    "发错货",
    "物流太慢",
    "商品破损",
    "七天无理由退货",
    "与描述不符",
    "quality issue",
    "wrong size",
    "changed my mind",
    "damaged in transit",
    '包装破损, 内件"受潮"',
    "颜色不对,\n要求换货",
]
RING_REASONS = ["质量问题", "假货", "与描述不符", "商品有瑕疵，要求赔偿", "fake product", "虚假宣传"]
COMPENSATION_REASONS = ["协商补偿", "商家补偿", "延迟发货补偿", "goodwill compensation", "差价补偿"]
CAMPAIGN_NAMES = [
    "满{t}减{f}",
    "{t} minus {f} weekend deal",
    "限时抢券 满{t}减{f}",
    "会员日 满{t}减{f}",
    "618狂欢 满{t}减{f}",
]
CAMPAIGN_NAMES_NO_THRESHOLD = ["新人专享{f}元券", "无门槛{f}元券", "{f} yuan off, no minimum"]


def background_review(rng: np.random.Generator, rating: np.ndarray) -> list[str]:
    """One text per rating (some empty), drawn from the pools by sentiment."""
    out = []
    pick = rng.random(len(rating))
    idx = rng.integers(0, 1 << 30, len(rating))
    for r, p, i in zip(rating.tolist(), pick.tolist(), idx.tolist(), strict=True):
        if p < 0.25:
            out.append("")
            continue
        pool = POSITIVE if r >= 4 else NEUTRAL if r == 3 else NEGATIVE
        out.append(pool[i % len(pool)])
    return out


def ring_text(rng: np.random.Generator, style: dict) -> str:
    """A complaint in the ring's house style: same template and favourite words, varied."""
    tpl = style["template"]
    words = {k: (v[style["fav"][k]] if rng.random() < 0.7 else v[rng.integers(len(v))]) for k, v in RING_WORDS.items()}
    text = (
        OPENERS[rng.integers(len(OPENERS))]
        + tpl.format(**words)
        + CLOSERS[rng.integers(len(CLOSERS))]
        + EMOJI[rng.integers(len(EMOJI))]
    )
    if rng.random() < 0.15:
        text = text.replace("，", ", ")
    return text


def ring_style(rng: np.random.Generator) -> dict:
    return {
        "template": RING_TEMPLATES[rng.integers(len(RING_TEMPLATES))],
        "fav": {k: int(rng.integers(len(v))) for k, v in RING_WORDS.items()},
    }


# Order brushing: praise written to a brief ("five stars, mention fast shipping"), one house
# template and favourite words per crew, varied a little so exact-match rules miss it.
BRUSH_TEMPLATES = [
    "{a}，{b}，{c}！{d}",
    "{b}，{a}。{c}{d}",
    "{a}{d} {c}，{b}",
    "{e}! {f}, {g}",
    "{e}, {g}. {f}{d}",
    "{c}！{a}，{b}",
]
BRUSH_WORDS = {
    "a": ["宝贝非常好", "质量超级好", "非常满意", "东西很棒", "物超所值", "和图片一模一样"],
    "b": ["物流很快", "发货速度超快", "包装精美", "客服超级耐心", "第二天就到了"],
    "c": ["五星好评", "强烈推荐", "下次还来", "值得购买", "闭眼入"],
    "d": ["😍", "👍👍", "❤️", "！！", "", "🌟🌟🌟🌟🌟"],
    "e": ["Excellent product", "Amazing quality", "Perfect item", "Love it"],
    "f": ["super fast delivery", "great seller", "lovely packaging"],
    "g": ["highly recommend", "5 stars", "will buy again"],
}
# Serial refund / compensation claims: a crew's small set of stories, reused again and again.
REFUNDER_REASONS = [
    "食品有异物",
    "吃了拉肚子，要求赔偿",
    "商品变质发霉",
    "收到时已过期",
    "包装漏气，无法食用",
    "少发漏发",
    "外卖送错了",
    "food had a foreign object",
    "item arrived spoiled",
    "missing items in parcel",
    "got sick after eating",
]
RECALL_REASONS = ["产品召回", "商家召回退款", "product recall", "召回：批次质量问题"]


def brush_text(rng: np.random.Generator, style: dict) -> str:
    """Praise in the crew's house style: its template and favourite words, now and then a
    random word of the same slot."""
    words = {
        k: (v[style["fav"][k]] if rng.random() < 0.75 else v[rng.integers(len(v))]) for k, v in BRUSH_WORDS.items()
    }
    return style["template"].format(**words)


def brush_style(rng: np.random.Generator) -> dict:
    return {
        "template": BRUSH_TEMPLATES[rng.integers(len(BRUSH_TEMPLATES))],
        "fav": {k: int(rng.integers(len(v))) for k, v in BRUSH_WORDS.items()},
    }
