"""Clinical questions go to staff, never answered by the agent (spec, HIPAA considerations:
"If a patient asks the agent clinical questions, the agent should defer to a human staff
member rather than answering.").

`assess_clinical` finds clinical content in what the callee said: symptoms, dosage, side
effects, complications, medicines and interactions. Signals of a possible complication after
a treatment (worsening swelling, severe pain, vision changes, blanching or white/grey skin
after filler, fever, infection, trouble breathing or swallowing, a drooping eyelid...) make
the staff task URGENT. Patterns are whole words on normalised clauses; "a pain to get to"
and "bump it to Thursday" are not symptoms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ringfence.agent.guardrails.clinical_es import (
    CLINICAL_ES,
    CONTEXT_ES,
    IDIOMS_ES,
    IN_CONTEXT_ES,
    URGENT_ES,
)
from ringfence.agent.text import clauses, unaccented

_COLOUR: Final = r"(white|grey|gray|greyish|grayish|blue|bluish|purple|purplish|dusky|pale)"
# What puts a colour, "no veo bien" or "está caliente" in a clinical context: a part of the
# body or a treatment anywhere in the turn (`_IN_CONTEXT`).
_CONTEXT_EN: Final = (
    r"\b(lips?|skin|nose|tip|cheeks?|chin|forehead|face|area|spots?|patch\w*|fingers?|toes?|"
    r"eyelids?|eyes?|temples?|jaw|neck|breasts?|nipples?|tissue|incision|wound|mouth|gums?|ears?|"
    r"stitches|sutures|scars?|dressing|"
    r"arms?|legs?|hands?|belly|stomach|abdomen|brow|site|inject\w*|filler|botox|dysport|"
    r"treatment|procedure|surgery|lipo\w*|laser|peel|kybella|sculptra|microneedling)\b"
)

_CLINICAL_TEXT: Final = {
    "symptom": r"\b(swell\w*|swollen|swole|puff\w*|bruis\w*|lumps?|lumpy|bumpy|cold sores?|"
    r"a (small |little |tiny |hard )?bump|bumps|a bump (on|under|in|near)|numb(ness|"
    r"ed|ing)?|"
    r"itch\w*|rash\w*|redness|red spots?|tender\w*|soreness|sore (on|at|where)|aching|ache|"
    r"headaches?|(?<!a )pain|painful|hurts?|hurting|blister\w*|scab\w*|scar|scars|scarring|"
    r"burn(s|ed|ing)? (on|skin|mark)|burning|on fire|bleed\w*|nause\w*|dizz\w*|hives|"
    r"reaction|droop\w*|asymmetr\w*|uneven|lopsided|tingl\w*|stinging|throbbing)\b",
    "dosage": r"\b(dosage|doses?|how many (units|syringes|vials)|how much (botox|filler|dysport|"
    r"xeomin|product)|units of|\d+ units|mg|milligrams?|ml|cc)\b",
    "side_effect": r"\b(side effects?|complications?|risks?|downtime|recovery time)\b",
    "normal_question": r"\b(is|it is|that is|this is) (this |that |it )?(normal|expected|safe) (to|"
    r"that|for|after|if)\b|\b(is|it is|that is|this is) (this |that |it )?(normal|expected|safe)$|"
    r"\bsupposed to (peel|look|feel|hurt|swell|bruise)\b|"
    r"\b(work ?out|exercise|fly|sauna|massage) (after|before)\b|"
    r"\bshould i (be )?(worried|worry|concerned)\b",
    "medication": r"\b(medications?|medicines?|meds|pills?|prescriptions?|antibiotics?|"
    r"blood thinners?|painkillers?|aspirin|ibuprofen|advil|motrin|tylenol|aleve|arnica|"
    r"accutane|retin a|tretinoin|retinol|prednisone|steroids?|fish oil|vitamin e|"
    r"ozempic|semaglutide|alcohol|wine|smok\w*|drink(ing)? (wine|alcohol)|interact\w*|"
    r"benadryl|antihistamines?)\b",
    "pregnancy": r"\b(pregnan\w*|breastfeed\w*|breast feed\w*|nursing)\b",
    "allergy": r"\b(allerg\w*|anaphyla\w*)\b",
}
_URGENT_TEXT: Final = {
    # Counts only in a turn with a symptom (`_NEEDS_A_SYMPTOM`): "Tuesday is worse for me".
    "worsening": r"\b(getting|got|gotten|is|it is|keeps getting) (worse|bigger|larger)\b|"
    r"\bworse\w*\b|\bspread(s|ing)?\b(?! (some|the|it|on|out|a|my|your|that|this|arnica|"
    r"cream|ointment|vaseline|payments?)\b)|\b(going|moving|creeping) (up|down) (my|her|his|"
    r"the)\b|\b(swell\w*|puff\w*|blow\w*) up\b|\bby the hour\b",
    "severe_pain": r"\b(severe|extreme|excruciating|unbearable|intense|terrible|really bad|"
    r"a lot of) (pain|swelling|headache)\b|\bexcruciating\b|\bunbearable\b|"
    r"\b(pain|swelling|headache) (\w+ ){0,4}(is|are|so) (severe|extreme|unbearable|"
    r"really bad|excruciating)\b|\b(hurts|hurting) (a lot|so (bad|much)|really bad)\b",
    "vision": r"\b(vision|blurry|blurred|double vision|seeing double|see double|can not see|"
    r"blind\w*|eyesight|see (properly|clearly))\b|"
    r"\bsee\w* (two|2) of everything\b|\bsee\w* (everything|things) double\b|"
    r"\beverything (looks|is|is looking) double\b",
    # "Going" / "looking" + a colour counts in context only (`_IN_CONTEXT`): "going to White
    # Plains", "looking at Blue Cross" are not one; "it turned white" always is.
    "blanching": r"\b(blanch\w*|dusky|mottl\w*)\b|\b(turn\w*|went|gone)(?! to\b) (\w+ ){0,2}("
    + _COLOUR[1:-1]
    + r"|dark|black)\b|\b(lips?|skin|nose|fingers?|fingertips?|toes?|cheeks?|chin) (is |are |"
    r"look |looks |looking )?(so |very |kind of |kinda |all |a bit |a little )?"
    + _COLOUR
    + r"\b|\b"
    + _COLOUR
    + r" (\w+ )?(skin|patch\w*|spots?)\b|\b(cold|numb) and (\w+ )?("
    + _COLOUR[1:-1]
    + r"|blotchy)\b|\b"
    + _COLOUR
    + r" and (cold|numb)\b",
    "fever": r"\b(fever\w*|chills|feverish|temperature)\b",
    "infection": r"\b(infect\w*|pus|oozing|hot to the touch|warm to the touch|abscess)\b",
    "breathing": r"\b(trouble|difficulty|hard|harder|problems?|can not|struggling|hard time) "
    r"(to |with |when )?(breath\w*|swallow\w*)\b|\bshort(ness)? of breath\b|"
    r"\b(unable|not able) to (breath\w*|swallow\w*)\b|\bcan not catch (my|her|his) breath\b|"
    r"\bgasping\b|"
    r"\b(throat|tongue|airway) (\w+ ){0,2}(swell\w*|swollen|closing|tight\w*|thick)\b",
    "drooping": r"\b(droop\w*|ptosis|slurr\w*|(eyelid|lid|brow|eyebrow|eye|face|mouth|smile) "
    r"(is |are )?(\w+ ){0,2}(dropp\w*|sagg\w*)|(eyelid|lid|brow|eyebrow)s? (is |are )?(\w+ ){0,2}"
    r"(lower\w*|hanging)|(dropp\w*|droop\w*|sagg\w*) "
    r"(\w+ ){0,2}one side|can not (close|open) (my|her|his) eye)\b",
    "emergency": r"\b(emergency|hospital|911|nine one one|the er|urgent care|ambulance|"
    r"chest (pain|hurts|is tight|feels tight)|fainted|fainting|(feel|felt|feeling|feels) faint|"
    r"passed out|blacked out|lost consciousness|blood clots?|dvt)\b|"
    # Someone collapsed (never "the deal collapsed").
    r"\b(i|she|he|they|and|then|just|nearly|almost|mom|dad|mother|father|wife|husband|"
    r"daughter|son|sister|brother|aunt|uncle|niece|nephew|cousin|grandma|grandpa|friend|"
    r"patient)( s)? (collapsed|keeled over)\b",
    "bleeding": r"\b(bleeding (a lot|heavily|badly|through|non ?stop)|(will not|does not|can not) "
    r"stop bleeding|bleed\w* (\w+ ){0,4}(will not|does not|would not) stop|"
    r"(incision|wound|stitches) (\w+ )?(opened|split|came apart|came out|popped)|"
    r"(soaked|soaking|bled) (through|thru) (\w+ ){0,2}(gauze|pads?|bandages?|dressings?|"
    r"garment))\b",
    "necrosis": r"\b(necros\w*|dying skin|black (skin|scab|spot))\b",
}
# Urgent only in a clinical context (`_CONTEXT_EN`): said loosely, they have other senses.
_IN_CONTEXT_EN: Final = {
    "blanching": r"\b(going|getting|looks?|looking|kind of|kinda|sort of) (\w+ ){0,2}("
    + _COLOUR[1:-1]
    + r"|dark|black)\b",
    "infection": r"\b(smells?|smelling) (bad|funny|weird|foul|off|awful|gross)\b|"
    r"\b(and it|it) (really |kinda |kind of )?(stinks|reeks)\b(?! that (i|we|you|they|he|she)\b)|"
    r"\b(the|my|her|his) (cut|wound|incision|area|site|stitches|scar|drain)s? (really |kinda |"
    r"kind of )?(stinks?|reeks?|smells?)\b|"
    r"\b(leak\w*|weep\w*|seep\w*|drain\w*|ooz\w*) (\w+ ){0,2}(yellow\w*|green\w*|cloudy|"
    r"milky)\b",
    # A faint said plainly ("I went woozy and hit the floor after the treatment").
    "emergency": r"\b(i|she|he|they|and|then|just|nearly|almost) hit the (floor|deck|ground)\b|"
    r"\b(came|come|coming) (round|around|to) (after|a few|when|on the)\b",
}
# Removed from a clause before it is read: the words in another sense ("a pain in the neck",
# "I nearly fainted at the bill", "I work at the hospital").
_IDIOMS_EN: Final = (
    r"\bpain in the (neck|butt|ass)\b",
    r"\b(is|was) (such )?a (real |total |huge |big )?(headache|pain)\b",
    r"\bwhat a (real |total |huge |big )?(headache|pain)\b",
    r"\b(nearly|almost) (fainted|passed out|died) ((at|over) (the|that|your) (price|bill|cost|"
    r"total|quote)|when i (saw|heard|got) (the|that|your)|seeing the|laughing)\b",
    r"\bpassed out (on|in) (the|my) (couch|sofa|chair) (and|so) (i )?missed\b",
    r"\b((grey|gray) and cold|cold and (grey|gray)) (out|outside|today|this morning|here)\b",
    r"\bdying (to|for)\b",
    r"\b(killing|kills) me\b",
    r"\b(price|bill|cost|news|that|this) (is|was) (\w+ ){0,2}hard to swallow\b",
    r"\bswallow (another|that|this|the|your) (\w+ )?(price|increase|bill|cost|news|story)\b",
    r"\bbreathe a word\b",
    r"\bblacked out (the|my|those|these) (dates|days|calendar|schedule|week)\b",
    r"\b(i|she|he|we|they) work\w*( nights| days| shifts| there| as a \w+)? (at|in) (the|a) "
    r"(hospital|er|emergency room|urgent care)\b",
    r"\b(i am|i m|she is|he is|she|he) (a|an) (nurse|paramedic|doctor|emt|physician|surgeon|"
    r"orderly|tech|er nurse|er doctor)( (at|in) (the|a) (hospital|er|emergency room|urgent care)|"
    r" there)\b",
    # Said fine: "my vision's totally fine, no drooping" is no vision change.
    r"\b(my|her|his|the) (vision|eyesight)( is| was)? (totally |completely |perfectly |"
    r"still |all )?(fine|ok|okay|good|normal|clear|perfect|alright|all right)\b",
    # A question, not a report: "can I take ibuprofen or does that make the bruising worse".
    r"\b(does|do|will|would|could|can|might) (that|it|this|they) make (\w+ ){0,3}worse\b",
    r"\b(bleeding|bleed|bleedin) (money|cash|us dry|me dry)\b",
    r"\b(family|work|childcare|personal) emergency\b",
    r"\b(my|our|the) vision (for|of) (this|next|the) (year|future|business|practice)\b",
    r"\bvision boards?\b",
    # ... not "I lost my vision for a few seconds", "my vision for like an hour was gone".
    r"\b(?<!lost )(?<!lose )(my|our) vision "
    r"(for (?!(a|an|like|about|some|one|two|few|\d+)\b)|is to)\b",
    # The thing that changed colour is named right before the verb: "in the car my lip went
    # white" keeps its complication.
    r"\b(phone|screen|tv|laptop|computer|sky) (turned|went|is|was|got) (all |kind of |kinda )?"
    r"(purple|blue|black|white|grey|gray)\b",
    # A pet is never the patient: "my dog had a fever all weekend". Up to four words, never
    # past a conjunction or the caller ("my dog is fine but I can't breathe", "sorry the dog
    # was barking I can't breathe").
    r"\b(my|our|the) (dog|cat|puppy|kitten|pet)( s)?( (paw|paws|leg|ear|eye|face|nose|tail))?"
    r" (has|had|is|was|got|gets|been|having)"
    r"( (?!(and|but|so|then|now|i|my|me|she|her|he|his|we|sorry|because|plus)\b)"
    r"\w+){0,4}",
)
_CLINICAL: Final = tuple(
    (label, re.compile(p)) for table in (_CLINICAL_TEXT, CLINICAL_ES) for label, p in table.items()
)
_URGENT: Final = tuple(
    (label, re.compile(p)) for table in (_URGENT_TEXT, URGENT_ES) for label, p in table.items()
)
_IDIOMS: Final = re.compile("|".join((*_IDIOMS_EN, *IDIOMS_ES)))
# A sign denied right before it ("no fever", "not getting worse", "no tengo fiebre ni
# escalofríos", "sin pus") is not reported: the turn stays clinical, not urgent. Only a cue
# that touches the sign counts ("no, it turned white" is two clauses; "no my lip turned white"
# has words between). A bare "no" is an answer as often as a denial, so it reaches an article
# only through a verb ("no tengo el párpado caído", never "no the tongue is swollen"); "no
# más" is "just" in Mexico; "never had chills like this" reports them. Vision is never denied
# ("no vision in that eye" is itself the sign), nor a sign that carries its own negation ("no
# puedo respirar", "can't breathe"), nor a fever with its reading ("no tengo fiebre de 39"
# is, without its comma, "no, I have a fever of 39").
_VERB: Final = r" (tengo|tiene|tenia|hay|have|has|had|is|are|was|esta|estan|me|le)"
_MORE: Final = r"( (any|more|longer|signs? of|mas|ningun\w*|nada de))*"
_ARTICLE: Final = r"( (a|the|el|la|los|las|un|una))?"
_DENIED: Final = re.compile(
    r"\b(no(?! mas\b)("
    + _VERB
    + _MORE
    + _ARTICLE
    + r")?"
    + _MORE
    + r"|(not|without|nothing( of)?|none|sin|tampoco|nada de)("
    + _VERB
    + r")?"
    + _MORE
    + _ARTICLE
    + r") ?$|\bni("
    + _VERB
    + r")? ?$"
)
_SELF_NEGATED: Final = re.compile(r"(no|not|sin|can not|unable|will not|does not)\b")
_READING: Final = re.compile(
    r" (de |of |is |at |like |around |como )?(\d|treinta|cuarenta|thirty|forty|a hundred|"
    r"one hundred|ciento)"
)
_NEVER_DENIED: Final = frozenset({"vision"})
# A fever had and gone ("I had a low fever the day after but it's gone since Saturday", "tuve
# fiebre baja pero ya se me quitó") is a past issue, clinical: the fever right after "had" /
# "tuve" in a turn that says it went away. A fever that has not ("I had a fever and now
# chills") stays urgent, and so does every other sign in the turn.
_HAD: Final = re.compile(
    r"(?<!have )(?<!has )(?<!i ve )\b(had|tuve|tuvo)( (a|an|un|una))?( (low|slight|little|"
    r"small|mild|bit of a|leve|ligera|poquita))?( grade)? ?$"
)
# ... said of the fever itself ("it's gone", "la fiebre se me quitó"), not negated ("it hasn't
# gone away", "never went away"), and not come back ("went away and came back", "still").
_GONE: Final = re.compile(
    r"(?<!not )(?<!never )(?<!no )\b((it|the fever|the temperature)( is| has| was)? (all )?"
    r"(gone|went away|cleared up|cleared|resolved)|((ya )?se (me |le )|la fiebre se |la "
    r"calentura se )(quito|fue))\b"
)
# ... nor gone only under a medicine, nor worse, on and off: "it went away with Advil", "it
# broke but I feel worse", "it keeps coming and going".
_BACK: Final = re.compile(
    r"\b(back|again|still|returned|keeps?|coming and going|comes and goes|on and off|worse|"
    r"advil|tylenol|ibuprofen|motrin|aleve|aspirin|medicine|meds|sigue|sigo|todavia|otra vez|"
    r"de nuevo|volvio|regreso|peor|va y viene|viene y va|pastilla|paracetamol|ibuprofeno)\b"
)
# Read loosely only in a turn with no part of the body, treatment or symptom in it:
# - a child who is not the patient, with a fever or in hospital ("my grandbaby's running a
#   fever so I have to reschedule", "mi nieto tiene fiebre"): the words up to the fever or the
#   hospital go, never past a conjunction or the caller's own words, and nothing after them
#   ("my grandson has a fever and can't breathe" keeps its breathing). An adult relative (an
#   aunt, a cousin, a parent, a spouse) may be the patient and is always heard, and so is a
#   child beside a treatment ("my daughter's lip turned white after the filler");
# - "feeling blue" ("been feelin kinda blue about it"); "her lips felt so blue and cold" is
#   a colour change.
_READ_LOOSELY: Final = re.compile(
    r"\b(my|our|his|her|mi|mis|su|sus|nuestr[oa]s?)( little)? (grandbaby|grandbabies|"
    r"grandkids?|grandchild|grandchildren|grandson|granddaughter|baby|toddler|little one|kids?|"
    r"nietos?|nietas?|bebe|ninos?|ninas?|hijit[oa]s?)( s)?"
    r"( (?!(and|but|so|then|now|i|my|me|us|we|y|pero|asi|ahora|yo|mi|no|nos|conmigo|porque|"
    r"because)\b)\w+){0,3}?"
    r" (a )?(fever|temperature|fiebre|calentura|(in|at) the (hospital|er)|en el hospital)\b"
    # ... unless the caller has it too ("and so do I", "y yo también").
    r"(?!.*\b(so do i|me too|i do too|i have (it|one) too|as well|too|yo tambien|tambien|"
    r"igual)\b)|"
    r"\b(feel|feeling|feelin|felt) (kind of |kinda |a bit |a little |so |pretty |real )?blue\b"
)
_SYMPTOM: Final = tuple(p for label, p in _CLINICAL if label == "symptom")
_NEEDS_A_SYMPTOM: Final = frozenset({"worsening"})
_CONTEXT: Final = (re.compile(_CONTEXT_EN), re.compile(CONTEXT_ES))
_IN_CONTEXT: Final = tuple(
    (label, re.compile(p))
    for table in (_IN_CONTEXT_EN, IN_CONTEXT_ES)
    for label, p in table.items()
)


@dataclass(frozen=True, slots=True)
class ClinicalConcern:
    urgent: bool
    signals: tuple[str, ...]  # labels of what matched, e.g. ("symptom", "worsening")


def assess_clinical(text: str) -> ClinicalConcern | None:
    """Clinical content in the callee's words, and whether it may be a complication.

    Urgent signals count only alongside clinical words or on their own when unambiguous
    (vision, blanching, breathing, fever, infection, emergency): "worse" alone ("Tuesday is
    worse for me") is not a complication.
    """
    # Once, not once per pattern; "está" -> "esta"; idioms out ("a pain in the neck").
    parts = [_IDIOMS.sub(" ", c) for c in clauses(unaccented(text))]
    if not any(p.search(c) for p in (*_SYMPTOM, *_CONTEXT) for c in parts):
        parts = [_READ_LOOSELY.sub(" ", c) for c in parts]
    found = list(dict.fromkeys(label for label, p in _CLINICAL for c in parts if p.search(c)))
    # "Worse" counts in a turn with a symptom ("My lip is swollen. I iced it. It's getting
    # worse."), not beside any clinical word ("el martes está peor, ¿puedo tomar
    # ibuprofeno?"); a colour change said loosely, with a part of the body or a treatment.
    symptom = any(p.search(c) for p in _SYMPTOM for c in parts)
    in_context = symptom or any(p.search(c) for p in _CONTEXT for c in parts)
    # Each sign once per clause: reported, or only denied ("no fever, no chills": still a
    # clinical turn, for staff).
    heard: dict[str, bool] = {}
    gone = any(_GONE.search(c) for c in parts) and not any(_BACK.search(c) for c in parts)
    for label, p in _URGENT:
        if label in _NEEDS_A_SYMPTOM and not symptom:
            continue
        for c in parts:
            verdict = _reported(label, p, c, gone=gone)
            if verdict is not None:
                heard[label] = heard.get(label, False) or verdict
    urgent = [label for label, reported in heard.items() if reported]
    if in_context:
        urgent += [
            label
            for label, p in _IN_CONTEXT
            if label not in urgent and any(_reported(label, p, c) for c in parts)
        ]
    if not urgent and heard:
        found.append("denied_sign")
    standalone = [u for u in urgent if u not in {"worsening", "severe_pain"}]
    if not found and not standalone:
        if "severe_pain" in urgent:
            return ClinicalConcern(True, ("severe_pain",))
        return None
    signals = tuple(dict.fromkeys([*found, *urgent]))
    return ClinicalConcern(urgent=bool(urgent), signals=signals)


def _reported(
    label: str, pattern: re.Pattern[str], clause: str, *, gone: bool = False
) -> bool | None:
    """True when the sign is in the clause and not denied right before it (`_DENIED`, read
    over the 60 characters before the sign: a denial touches it, and a long turn costs no
    more); False when it is there only denied, or only as a fever had in a turn that says it
    went away (`gone`); None when it is not there."""
    verdict: bool | None = None
    for m in pattern.finditer(clause):
        if gone and label == "fever" and _HAD.search(clause, max(0, m.start() - 40), m.start()):
            verdict = False
            continue
        if (
            label in _NEVER_DENIED
            or _SELF_NEGATED.match(m.group()) is not None
            or (label == "fever" and _READING.match(clause, m.end()) is not None)
            or not _DENIED.search(clause, max(0, m.start() - 60), m.start())
        ):
            return True
        verdict = False
    return verdict
