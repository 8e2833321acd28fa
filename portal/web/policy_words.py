"""How a policy parameter is named and cited to citizens.

The parameter files keep the researchers' full trail (calculators consulted, file names, doubts, in English);
people are shown only the official texts that trail names, in Chinese as published, or a plain sentence
where there is none. The trail stays in the files and in the policy command's output for staff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from portal import i18n
from portal.policy.parameters import all_parameters

# An official text: a document number such as 吉人社联〔2025〕97号, a law or State Council measure by name,
# a national standard. Anything else in the trail (JLC, file names, "derived", "general knowledge") is not.
OFFICIAL = re.compile(r"〔\d{4}〕\d+号|法|办法|决定|通知|方案|规定|代码|公布|说明")
DOCUMENT_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,8}〔\d{4}〕\d+号")
REMARK = re.compile(r"\(([^()]*)\)")
ASCII_WORD = re.compile(r"(?<![A-Za-z/])(?!GB/T)[A-Za-z]")
CJK = re.compile(r"[\u4e00-\u9fff]")
MONTH = re.compile(r"\d{4}-\d{2}")


@dataclass(frozen=True)
class Citation:
    documents: tuple[str, ...]  # official titles, in Chinese as published
    derived: bool  # the figure was worked out from those texts, not printed in them


def _kept_remark(match: re.Match) -> str:
    """A bracketed remark stays only when it is part of an official title (Chinese, no English notes)."""
    inner = match.group(1)
    if CJK.search(inner) and not re.search(r"[A-Za-z]", inner):
        return f"（{inner}）"
    return ""


def _official_part(part: str) -> str:
    part = part.strip()
    cut = ASCII_WORD.search(part)
    if cut:
        part = part[:cut.start()]
    part = " ".join(part.replace(" （", "（").split()).strip(" ,:;+-")
    if not part or part.startswith("未找到") or not OFFICIAL.search(part):
        return ""
    return part


@cache
def citation(source: str) -> Citation:
    """The official texts a source names; none when it names no official text."""
    source = (source or "").strip()
    derived = source.lower().startswith(("derived", "assumed"))
    if not source or source.startswith("未找到"):
        return Citation((), False)
    plain = REMARK.sub(_kept_remark, source)
    documents = [found for part in re.split(r"[;；+]", plain) if (found := _official_part(part))]
    if not documents:
        documents = DOCUMENT_NUMBER.findall(source)
    return Citation(tuple(dict.fromkeys(documents)), derived)


@cache
def _labels(locale: str) -> dict[str, str]:
    english = locale == "en"
    return {p.name: (p.description_en if english else p.description_zh) for p in all_parameters()}


def parameter_label(name: str) -> str:
    """What a parameter is, in the visitor's language (never its name in the rules)."""
    return _labels(i18n.current_locale()).get(name) or i18n.gettext("A policy figure")


# The keys of table-valued parameters and the choices of choice parameters, as people read them.
VALUE_WORDS: dict[str, tuple[str, str]] = {
    "approximation_factor": ("近似计息系数", "approximation factor"),
    "cap": ("上限", "cap"),
    "cap_months": ("最多延迟月数", "longest delay in months"),
    "code": ("代码", "code"),
    "deferral_agreement_months": ("推迟退休须提前协商月数", "months of agreement before a later retirement"),
    "early_max_months": ("最多提前月数", "most months early"),
    "early_notice_months": ("提前退休须提前申请月数", "months of notice before an earlier retirement"),
    "female": ("女性", "women"),
    "female_cadre": ("女干部", "women in cadre posts"),
    "female_worker": ("女工人", "women workers"),
    "first_month_accrual_months": ("当月记账计息月数", "months of interest on the month credited"),
    "floor": ("下限", "floor"),
    "from_month": ("起始月份", "from the month"),
    "late_max_months": ("最多推迟月数", "most months late"),
    "male": ("男性", "men"),
    "max": ("最高", "highest"),
    "min": ("最低", "lowest"),
    "over": ("超过年数", "over years"),
    "rate": ("比例", "rate"),
    "start_cohort": ("起始出生年月", "first birth month affected"),
    "step_months": ("每延迟1个月对应的出生月数", "months of birth per month of delay"),
    "to": ("至年数", "to years"),
    "cumulative": ("按累计缴费年限", "by cumulative years of service"),
    "actual": ("按实际缴费年限", "by years actually paid"),
    "both": ("两者均适用", "both apply"),
    "no": ("否", "no"),
    "yes": ("是", "yes"),
    "fund_surplus": ("基金累计结余承担", "borne by the fund's accumulated surplus"),
    "organisation_department": ("县级以上党委组织部门批准调动", "a move approved by a party organisation department"),
    "hr_department": ("县级以上人力资源社会保障部门批准调动", "a move approved by a human-resources department"),
    "governments": ("各级政府承担", "borne by governments at all levels"),
    "collection_rate_drop_points": ("征缴率环比下降百分点（达到即预警）", "fall of the collection rate in points that flags"),
    "collection_rate_minimum_due_yuan": ("上月应征额不低于（元）", "least due the month before (yuan)"),
    "back_payment_factor": ("补缴月数超过前6个月平均的倍数", "times the average back payments of six months before"),
    "back_payment_minimum": ("补缴月数不少于", "fewest back-paid months that flag"),
    "base_drop_ratio": ("缴费基数低于本人上年基数的比例", "share of the person's previous base below which it flags"),
    "back_payment_window_months": ("对比的前几个月", "months before compared with"),
    "near_retirement_enrolments": ("单位一个月内新增临近退休人员不少于", "fewest near-retirement enrolments by one employer in a month"),
    "near_retirement_age_men": ("临近退休年龄（男）", "near-retirement age (men)"),
    "near_retirement_age_women": ("临近退休年龄（女）", "near-retirement age (women)"),
    "shared_account_pensions": ("同一银行卡领取养老金份数不少于", "fewest pensions into one bank card that flag"),
    "wage_growth": ("工资年增长率", "yearly wage growth"),
    "pension_growth": ("养老金年调整率", "yearly pension adjustment"),
    "entrants_rate": ("每年新参保人数占缴费人数比例", "new contributors a year as a share of contributors"),
    "entrant_age": ("新参保人员年龄", "age of new contributors"),
    "new_pension_ratio": ("新退休人员初始养老金占缴费基数比例", "a new retiree's first pension as a share of the base"),
    "horizon_year": ("测算终止年份", "last year projected"),
    "mortality_men": ("男性年死亡概率（按年龄组起始年龄）", "men's yearly probability of dying (by the band's lowest age)"),
    "mortality_women": ("女性年死亡概率（按年龄组起始年龄）", "women's yearly probability of dying (by the band's lowest age)"),
    "collection_rate": ("征缴率", "collection rate"),
    "contribution_rate": ("缴费率", "contribution rate"),
    "enrolment_completion": ("参保计划完成率", "enrolment plan completion"),
    "budget_completion": ("征缴预算完成率", "collection budget completion"),
    "remittance": ("基金归集省级专户完成率", "remittance to the provincial account"),
    "subsidy_arrival": ("财政补助到位率", "arrival of fiscal subsidies"),
    "on_time_share": ("业务按时办结率", "requests decided on time"),
    "supervision_below": ("低于此分列为重点督导", "score below which supervision is targeted"),
    "funeral_grant_months": ("丧葬补助金月数", "months of funeral grant"),
    "months_under_5_years": ("缴费不满5年的抚恤金月数", "survivor-benefit months under 5 years"),
    "months_under_10_years": ("缴费5年以上不满10年的抚恤金月数", "survivor-benefit months from 5 to under 10 years"),
    "months_at_15_years": ("缴费10年至15年的抚恤金月数", "survivor-benefit months from 10 to 15 years"),
    "months_per_year_over_15": ("超过15年每年增加月数", "more months per year beyond 15"),
    "years_cap": ("最多计算年数", "most years counted"),
    "retiree_months_less_per_year_drawn": ("退休人员每领取1年养老金减少月数", "months less per year of pension drawn"),
    "retiree_minimum_months": ("退休人员最少抚恤金月数", "fewest survivor-benefit months for a retiree"),
    "fixed": ("定额调整（元/月）", "fixed amount (yuan a month)"),
    "per_contribution_year": ("每满一年缴费年限增加（元/月）", "per full contribution year (yuan a month)"),
    "percent_of_pension": ("按本人养老金的比例", "share of the person's pension"),
    "age_supplements": ("高龄倾斜（年满岁数：元/月）", "supplements for the very old (age reached: yuan a month)"),
    # Credit ratings and supervision by class (portal/policy/rules/credit.py).
    "True": ("是", "yes"),
    "False": ("否", "no"),
    "base": ("基础分", "base score"),
    "on_time_cap": ("加分上限", "most points added"),
    "arrears_after_days": ("逾期多少天计为欠费", "days past due that count as arrears"),
    "grade_a_from": ("A级最低分", "lowest score of grade A"),
    "grade_b_from": ("B级最低分", "lowest score of grade B"),
    "grade_c_from": ("C级最低分", "lowest score of grade C"),
    "weights": ("各类事件分值", "points of each event"),
    "counts_months": ("各类事件计入月数", "months each event counts"),
    "on_time_payment": ("按时缴费", "contributions paid on time"),
    "late_payment": ("逾期缴费", "contributions paid late"),
    "arrears_open": ("欠费未缴", "arrears still open"),
    "correction_made": ("主动更正", "a correction made of one's own accord"),
    "false_commitment": ("承诺不实", "a false commitment"),
    "fraud_finding": ("欺诈认定", "a finding of fraud"),
    "serious_dishonesty": ("列入严重失信人名单", "put on the serious-dishonesty list"),
    "tier_of_grade": ("各信用等级对应的风险等级", "risk tier of each grade"),
    "may_commit": ("可否适用告知承诺", "may commit instead of proving"),
    "statement_days": ("陈述申辩期限（天）", "days to state one's case"),
    "listing_years": ("列入期限（年）", "years a listing lasts"),
}


def value_word(key: object) -> str:
    """A key or choice of a parameter's value in the visitor's language, a month (1998-01) as a month in
    words; other values as they are."""
    words = VALUE_WORDS.get(str(key))
    if words is None:
        return i18n.format_month(key) if isinstance(key, str) and MONTH.fullmatch(key) else str(key)
    return words[1] if i18n.current_locale() == "en" else words[0]
