"""Message catalogue for explanation steps: id -> (Chinese, English), with named placeholders.

Steps keep the id and the values, so a translation layer can render them again; the texts here are the
default rendering. Keep placeholders identical in both languages.
"""

MESSAGES: dict[str, tuple[str, str]] = {
    # contribution base and contributions
    "base.raised_to_floor": (
        "申报工资 {wage} 元低于 {month} 所在缴费年度的基数下限 {floor} 元，按下限核定。",
        "The declared wage {wage} is below the floor {floor} for the contribution year of {month}; the floor is used.",
    ),
    "base.lowered_to_cap": (
        "申报工资 {wage} 元高于 {month} 所在缴费年度的基数上限 {cap} 元，按上限核定。",
        "The declared wage {wage} is above the cap {cap} for the contribution year of {month}; the cap is used.",
    ),
    "base.within_limits": (
        "申报工资 {wage} 元在 {month} 所在缴费年度的上下限（{floor}–{cap} 元）之内，按申报工资核定。",
        "The declared wage {wage} is within the limits {floor}-{cap} for {month}; it is the base.",
    ),
    "contribution.employer": (
        "单位缴费 = {base} × {rate} = {amount} 元（四舍五入到分）。",
        "Employer contribution = {base} × {rate} = {amount} (rounded half up to the fen).",
    ),
    "contribution.individual": (
        "个人缴费 = {base} × {rate} = {amount} 元（四舍五入到分）。",
        "Individual contribution = {base} × {rate} = {amount} (rounded half up to the fen).",
    ),
    "contribution.personal_account": (
        "记入个人账户 = {base} × {rate} = {amount} 元。",
        "Credited to the personal account = {base} × {rate} = {amount}.",
    ),
    "contribution.total": ("合计缴费 {total} 元。", "Total contribution {total}."),
    "contribution.flexible_base": (
        "灵活就业缴费基数 = {percent}% × 核定基数所用月平均工资 {average} 元 = {base} 元。",
        "Flexible base = {percent}% × the average wage used for the limits ({average}) = {base}.",
    ),
    "contribution.flexible_total": (
        "灵活就业人员全部由本人缴纳：{base} × {rate} = {amount} 元。",
        "A flexible worker pays it all: {base} × {rate} = {amount}.",
    ),
    # late fee
    "late_fee.on_time": (
        "应缴日期 {due}，缴纳日期 {paid}，未逾期，不收滞纳金。",
        "Due {due}, paid {paid}: not late, no late fee.",
    ),
    "late_fee.person_not_charged": (
        "应缴日期 {due}，缴纳日期 {paid}，逾期 {overdue} 天。社会保险法第八十六条的滞纳金针对用人单位，未见向灵活就业人员本人"
        "加收的依据，因此不收滞纳金（暂定，待核实）。",
        "Due {due}, paid {paid}: {overdue} days late. The late fee of Social Insurance Law article 86 is addressed to "
        "employers and no basis for charging a person paying for themselves was found, so no late fee is charged "
        "(assumed until confirmed).",
    ),
    "late_fee.window_excluded": (
        "缓缴/补缴期 {start} 至 {end} 内的 {days} 天不计滞纳金。",
        "{days} days inside the deferral/repayment window {start} to {end} are not charged.",
    ),
    "late_fee.window_long": (
        "注意：{start} 至 {end} 超过缓缴最长 {months} 个月，请核对所依据的文件。",
        "Note: {start} to {end} is longer than the longest deferral of {months} months; check which notice allows it.",
    ),
    "late_fee.deferral_window": (
        "缓缴自批准之日 {approved} 起最长 {months} 个月：{start} 至 {end} 不加收滞纳金。",
        "A deferral runs from its approval on {approved} for at most {months} months: no late fee from {start} to {end}.",
    ),
    "late_fee.fee": (
        "滞纳金 = {amount} × {rate} × {days} 天（逾期 {overdue} 天扣除缓缴期）= {fee} 元。",
        "Late fee = {amount} × {rate} × {days} days ({overdue} days late less deferral days) = {fee}.",
    ),
    # retirement
    "retirement.no_delay": (
        "该出生年月不在延迟退休范围内，法定退休年龄为原退休年龄 {age} 周岁。",
        "This birth month is not affected by the reform; the statutory age is the original {age}.",
    ),
    "retirement.delay": (
        "自 {start} 起第 {k} 个月出生，每 {step} 个月延迟1个月，最多 {cap} 个月：延迟 {delay} 个月。",
        "Born {k} months after {start}; one month of delay per {step} months of birth, at most {cap}: {delay} months.",
    ),
    "retirement.statutory": (
        "法定退休年龄 {years} 岁 {months} 个月，退休时间 {month}。",
        "Statutory retirement age {years} years {months} months, in {month}.",
    ),
    "retirement.window": (
        "弹性退休：最早 {earliest}（最多提前 {early} 个月，且不低于原退休年龄），最晚 {latest}（最多推迟 {late} 个月）。",
        "Flexible retirement: earliest {earliest} (up to {early} months early, never below the original age), "
        "latest {latest} (up to {late} months late).",
    ),
    "retirement.no_window": (
        "法定退休时间 {month} 早于改革实施，不适用弹性退休。",
        "The statutory month {month} is before the reform, so flexible retirement does not apply.",
    ),
    "retirement.conditions": (
        "弹性退休须书面办理：提前退休至少提前 {early} 个月书面告知；延迟退休须在法定退休时间 {statutory} 前至少 {late} 个月"
        "（即 {agree_by} 前）与单位书面协商一致。",
        "Flexible retirement is done in writing: an early retirement needs at least {early} months' written notice; "
        "a deferral needs a written agreement with the employer at least {late} month(s) before the statutory month "
        "{statutory} (by {agree_by}).",
    ),
    "retirement.chosen_early": (
        "选择 {month} 提前退休：须至少提前 {months} 个月（{notify_by} 前）书面告知，且须满足最低缴费年限。",
        "Early retirement chosen for {month}: written notice at least {months} months ahead (by {notify_by}), and the "
        "minimum contribution must be met.",
    ),
    "retirement.chosen_deferred": (
        "选择 {month} 延迟退休：须在 {agree_by} 前（法定退休时间前至少 {months} 个月）与单位书面协商一致。",
        "Deferred retirement chosen for {month}: a written agreement with the employer by {agree_by}, at least "
        "{months} month(s) before the statutory month.",
    ),
    "retirement.min_months_deferred": (
        "延迟至 {month} 退休，最低缴费年限按达到法定退休年龄的 {year} 年确定：{months} 个月。",
        "Retirement deferred to {month}: the minimum is that of {year}, the year statutory age is reached: "
        "{months} months.",
    ),
    "retirement.min_months": (
        "{year} 年达到法定退休年龄，按月领取养老金最低缴费 {months} 个月。",
        "Statutory age reached in {year}: at least {months} months of contributions for a monthly pension.",
    ),
    # divisor
    "divisor.whole_age": (
        "{years} 周岁退休，个人账户计发月数 {divisor}。",
        "Retiring at {years}, the personal-account divisor is {divisor}.",
    ),
    "divisor.interpolated": (
        "{years} 岁 {months} 个月退休：在 {lower} 与 {upper} 之间按月线性插值，计发月数 {divisor}。",
        "Retiring at {years} years {months} months: interpolated by month between {lower} and {upper}, "
        "divisor {divisor}.",
    ),
    # pension
    "pension.years": (
        "实际缴费 {actual} 个月、视同缴费 {deemed} 个月，累计缴费年限 {years} 年；平均缴费指数 {index}。",
        "{actual} months paid and {deemed} deemed months: {years} years in all; average index {index}.",
    ),
    "pension.base_override": (
        "使用输入的 {which} = {base} 元。",
        "Using the {which} given as input: {base}.",
    ),
    "pension.bases": (
        "{month} 退休（地区 {region}）：当地计发基数 {local} 元，全省计发基数 {provincial} 元。",
        "Retiring {month} (region {region}): local base {local}, province-wide base {provincial}.",
    ),
    "pension.basic": (
        "基础养老金 = ({local} + {provincial} × {index}) ÷ 2 × {years} × 1% = {amount} 元。",
        "Basic pension = ({local} + {provincial} × {index}) ÷ 2 × {years} × 1% = {amount}.",
    ),
    "pension.extra_bracket": (
        "增发：第 {start}–{end} 年段 {years} 年 × {rate} = {amount} 元（本段四舍五入到分）。",
        "Extra pension, years {start}-{end}: {years} years × {rate} = {amount} (this bracket rounded to the fen).",
    ),
    "pension.extra": (
        "增发基础养老金：按 {years} 年中超过20年的部分，各段合计比例 {rate}，各段金额相加 = {amount} 元。",
        "Extra pension: service beyond 20 of {years} years, rates totalling {rate}; the brackets' amounts add up "
        "to {amount}.",
    ),
    "pension.state_farm_base": (
        "农垦企业：计发基数 {base} 元，当地部分用 {local} 元，指数化部分用 {provincial} 元（用法为假设）。",
        "State-farm enterprise: base {base}; the local part uses {local} and the indexed part {provincial} "
        "(how it enters the formula is assumed).",
    ),
    "pension.not_eligible": (
        "累计缴费 {counted} 个月，不足按月领取养老金的最低 {minimum} 个月，还差 {missing} 个月：暂不能按月领取基本养老金。",
        "{counted} months in all, below the minimum {minimum} for a monthly pension: {missing} months are missing, "
        "so no monthly pension yet.",
    ),
    "pension.option_continue": (
        "可以继续缴费，补足所差的 {missing} 个月后按月领取基本养老金（社会保险法 第十六条）。",
        "You may keep paying until the {missing} missing months are made up, and then receive a monthly pension "
        "(社会保险法 第十六条).",
    ),
    "pension.option_reform": (
        "2025年1月1日起达到法定退休年龄的，可以按国家规定延长缴费或者一次性缴费至最低缴费年限（国务院关于渐进式延迟法定退休年龄的办法 第二条）。",
        "Reaching the statutory age from 2025-01-01, you may, as the state provides, extend contributions or pay "
        "in one lump sum up to the minimum (国务院关于渐进式延迟法定退休年龄的办法 第二条).",
    ),
    "pension.option_resident": (
        "也可以申请转入城乡居民基本养老保险，按其规定享受待遇（社会保险法 第十六条）。",
        "Or you may move your record to the urban-rural residents' basic pension scheme and receive its benefits "
        "(社会保险法 第十六条).",
    ),
    "pension.transitional": (
        "过渡性养老金 = {provincial} × {deemed} 年 × {index} × {coefficient} = {amount} 元。",
        "Transitional pension = {provincial} × {deemed} years × {index} × {coefficient} = {amount}.",
    ),
    "pension.no_transitional": ("无视同缴费年限，无过渡性养老金。", "No deemed years, so no transitional pension."),
    "pension.personal_account": (
        "个人账户养老金 = {balance} ÷ {divisor} = {amount} 元。",
        "Personal-account pension = {balance} ÷ {divisor} = {amount}.",
    ),
    "pension.total": (
        "月基本养老金 = {basic} + {extra} + {transitional} + {account} = {total} 元。",
        "Monthly pension = {basic} + {extra} + {transitional} + {account} = {total}.",
    ),
    # interest
    "interest.opening": (
        "上年末余额 {balance} × 记账利率 {rate} = {amount} 元。",
        "Opening balance {balance} × crediting rate {rate} = {amount}.",
    ),
    "interest.monthly_product": (
        "当年记账额按月积数法计息：月积数 {product} × {rate} ÷ 12 = {amount} 元。",
        "Current-year contributions by the monthly-product method: {product} × {rate} ÷ 12 = {amount}.",
    ),
    "interest.approximation": (
        "当年记账额按近似法计息：{paid} × {rate} × {factor} = {amount} 元。",
        "Current-year contributions by the approximation: {paid} × {rate} × {factor} = {amount}.",
    ),
    "interest.closing": (
        "年末余额 = {opening} + {paid} + {interest} = {closing} 元。",
        "Closing balance = {opening} + {paid} + {interest} = {closing}.",
    ),
    # contribution index
    "index.year": (
        "{year} 起的缴费年度：{months} 个月，平均指数 {mean}。",
        "Contribution year from {year}: {months} months, mean index {mean}.",
    ),
    "index.average": (
        "{months} 个月的平均缴费指数 {index}（保留两位小数）。",
        "Average index over {months} months: {index} (two decimals).",
    ),
    # transfer
    "transfer.account": (
        "个人账户储存额 {balance} 元全部转移。",
        "The whole personal-account balance {balance} moves.",
    ),
    "transfer.account_split": (
        "个人账户储存额 {balance} 元：1998年1月1日起的部分 {from_1998} 元全部转移；1998年以前的部分 {before} 元中只转移"
        "个人缴费部分及利息 {own} 元（{kept} 元不转移）；共转移 {moved} 元。",
        "Personal account {balance}: the part from 1998-01-01 on, {from_1998}, moves whole; of the part before 1998, "
        "{before}, only the person's own contributions with interest, {own}, move ({kept} stays); {moved} moves.",
    ),
    "transfer.pooled": (
        "统筹基金：{start} 起 {months} 个月缴费基数合计 {bases} × {rate} = {amount} 元。",
        "Pooled fund: {months} months from {start}, bases totalling {bases} × {rate} = {amount}.",
    ),
    "transfer.claim_rule_1": (
        "基本养老保险关系在户籍地，在户籍地 {place} 领取待遇。",
        "The relationship is in the hukou place, so benefits are claimed in {place}.",
    ),
    "transfer.claim_rule_2": (
        "最后参保地 {place} 累计缴费 {months} 个月，满 {threshold} 个月，在该地领取。",
        "The last insured place {place} has {months} months, at least {threshold}: benefits are claimed there.",
    ),
    "transfer.claim_rule_3": (
        "最后参保地不满 {threshold} 个月，回到最近一个满 {threshold} 个月的参保地 {place}（{months} 个月）领取。",
        "The last place has fewer than {threshold} months; benefits go back to the most recent place with at "
        "least {threshold}: {place} ({months} months).",
    ),
    "transfer.claim_rule_4": (
        "没有任何参保地累计满 {threshold} 个月，在户籍地 {place} 领取。",
        "No place has {threshold} months or more, so benefits are claimed in the hukou place {place}.",
    ),
    "transfer.temporary_account": (
        "跨省（{cross_province}）流动到非户籍地（户籍地：{hukou}），年龄 {age} 已满 {threshold} 周岁：建立临时缴费账户。",
        "Moving across provinces ({cross_province}) to a non-hukou place (hukou: {hukou}) at {age}, "
        "{threshold} or older: a temporary contribution account is opened.",
    ),
    "transfer.general_account": (
        "跨省：{cross_province}；转入户籍地：{hukou}；年龄 {age}（门槛 {threshold}）：建立一般缴费账户。",
        "Cross-province: {cross_province}; to the hukou place: {hukou}; age {age} (threshold {threshold}): "
        "an ordinary account.",
    ),
    "transfer.exempt_organisation_department": (
        "本次调动经县级以上党委组织部门批准，不建立临时缴费账户。",
        "This move was approved by a party organisation department at county level or above, so no temporary "
        "account is opened.",
    ),
    "transfer.exempt_hr_department": (
        "本次调动经县级以上人力资源社会保障部门批准，不建立临时缴费账户。",
        "This move was approved by a human-resources department at county level or above, so no temporary account "
        "is opened.",
    ),
    # survivor benefits
    "survivor.base": (
        "遗属待遇计发基数：{year} 年全省城镇居民人均可支配收入 ÷ 12 = {base} 元。",
        "Survivor-benefit base: the province's {year} urban per-capita disposable income ÷ 12 = {base}.",
    ),
    "survivor.funeral": (
        "丧葬补助金 = {base} × {months} 个月 = {amount} 元。",
        "Funeral grant = {base} × {months} months = {amount}.",
    ),
    "survivor.service_months": (
        "累计缴费 {contribution_months} 个月（{years} 年，最多按 {cap} 年计）：抚恤金 {months} 个月。",
        "{contribution_months} months of contributions ({years} years, at most {cap} counted): {months} months of "
        "survivor benefit.",
    ),
    "survivor.retiree_months": (
        "已领取养老金 {drawn} 个月（{drawn_years} 年），每年减1个月，最少 {minimum} 个月：{months} 个月。",
        "Pension drawn for {drawn} months ({drawn_years} years): one month less per year, at least {minimum}: "
        "{months} months.",
    ),
    "survivor.benefit": (
        "抚恤金 = {base} × {months} 个月 = {amount} 元。",
        "Survivor benefit = {base} × {months} months = {amount}.",
    ),
    "survivor.total": (
        "遗属待遇合计 = {funeral} + {benefit} = {total} 元（个人账户余额另行继承）。",
        "Survivor benefits in all = {funeral} + {benefit} = {total} (the personal-account balance is inherited "
        "separately).",
    ),
    # gap sharing
    "gap.split": (
        "基金缺口 {shortfall} 元：基金累计结余承担 {surplus_share}，即 {surplus} 元；各级政府承担 {governments_share}，"
        "即 {governments} 元。",
        "Gap {shortfall}: the fund's accumulated surplus bears {surplus_share}, i.e. {surplus}; governments at all "
        "levels bear {governments_share}, i.e. {governments}.",
    ),
    "gap.provisional": (
        "以上分担比例为暂定，可以调整（吉政发〔2020〕2号）；各级政府之间如何分担另行规定。",
        "These shares are provisional and may be adjusted (吉政发〔2020〕2号); how governments share their part among "
        "levels is set separately.",
    ),
    # estimate
    "estimate.assumptions": (
        "假设：今后按相同缴费指数连续缴费至退休；每多缴1个月，个人账户增加 8% × 指数 × 月平均工资 {wage} 元；"
        "不预测利息、工资增长和计发基数增长（未公布年度沿用最新基数）；视同缴费 {deemed} 个月。",
        "Assumptions: contributions continue at the same index until retirement; each extra month adds 8% × index "
        "× the average wage {wage} to the account; no interest, wage or base growth is projected (years not yet "
        "published use the latest base); {deemed} deemed months.",
    ),
    "estimate.months": (
        "{month} 退休时计入缴费 {counted} 个月（已缴 {paid}，今后 {future}）。",
        "Retiring {month}: {counted} months counted ({paid} paid, {future} still to pay).",
    ),
    "estimate.expected_capped": (
        "预计缴费 {expected} 个月超过到法定退休前可缴的 {available} 个月，按 {available} 个月计。",
        "The {expected} expected months exceed the {available} months left before statutory retirement; "
        "{available} are counted.",
    ),
    "estimate.minimum_not_met": (
        "{month} 退休时缴费 {counted} 个月，不足最低 {minimum} 个月，不能按月领取养老金（还差 {short} 个月）。",
        "Retiring {month}: {counted} months is below the minimum {minimum}; no monthly pension ({short} months short).",
    ),
}

# Codes that a rule passes as a step's value, by the words each language reads in the sentence.
WORDS: dict[str, tuple[str, str]] = {
    "base_provincial": ("全省计发基数", "province-wide pension base"),
    "base_local": ("当地计发基数", "local pension base"),
}
