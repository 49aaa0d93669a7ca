"""What the agent says on its own (not the dialogue policy's lines): the opt-out
acknowledgement and question, the clinical deferrals and the 911 lines, the identity check,
the transfer and call-back lines, each in English and, where a Spanish speaker must understand
it, in Spanish (docs/agent.md, "Spanish"). `{practice}`, `{first_name}`, `{callback_number}`
and `{when}` are filled by the agent profile's `render`.
"""

from __future__ import annotations

from typing import Final

OPT_OUT_ACK: Final = "Understood. You won't receive any more calls from {practice}. Goodbye."
OPT_OUT_ACK_ES: Final = "Entendido. No recibirá más llamadas de {practice}. Adiós."
OPT_OUT_QUESTION: Final = "Would you like us to stop calling this number?"
OPT_OUT_QUESTION_ES: Final = "¿Quiere que dejemos de llamar a este número?"
OPT_OUT_QUESTIONS: Final = (OPT_OUT_QUESTION, OPT_OUT_QUESTION_ES)
KEEP_CALLING: Final = "Okay, thank you."
HUMAN_CALLBACK: Final = (
    "Of course. I'll ask a member of our team at {practice} to call you back {when}. Goodbye."
)
TRANSFER_LINE: Final = (
    "Of course. I'm transferring you to a member of our team at {practice} now. Please hold."
)
TRANSFER_LINE_ES: Final = (
    "Por supuesto. Le paso ahora con un miembro de nuestro equipo de {practice}. "
    "Un momento, por favor."
)
CLINICAL_DEFERRAL: Final = (
    "That's a question for our clinical team, so I'll have a staff member call you back about it."
)
URGENT_DEFERRAL: Final = (
    "I'm not able to give medical advice, so I'm flagging this as urgent for our clinical team, "
    "and someone will call you back as soon as possible. If this feels like an emergency, "
    "please hang up and call 911. Goodbye."
)
FALLBACK_LINE: Final = (
    "I'm sorry, I'm having trouble on my end. A member of our team at {practice} will call "
    "you back. Goodbye."
)
ANYTHING_ELSE: Final = "Is there anything else I can help you with?"
IDENTITY_QUESTION: Final = "Am I speaking with {first_name}?"
IDENTITY_AGAIN: Final = "Sorry, I'm calling for {first_name}. Am I speaking with {first_name}?"
LEAVE_MESSAGE: Final = (
    "No problem. Please ask {first_name} to call {practice} at {callback_number}. "
    "Thank you, goodbye."
)
WRONG_NUMBER_LINE: Final = "I'm sorry about that. We'll update our records. Goodbye."
EMERGENCY_LINE: Final = (
    "I'm also flagging what you said as urgent for our clinical team. If this feels like an "
    "emergency, please hang up and call 911. Goodbye."
)
# Before the opt-out question, when the same words report a possible complication.
URGENT_FLAG: Final = (
    "I'm flagging what you said as urgent for our clinical team. If this feels like an "
    "emergency, please hang up and call 911."
)
# ... and after a clear no to it: the call ends there (no appointment talk after an emergency).
URGENT_GOODBYE: Final = (
    "Okay. Our clinical team will call you as soon as possible. If this feels like an "
    "emergency, please hang up and call 911. Goodbye."
)
# The clinical and emergency lines in Spanish, for a callee who speaks it (the 911 line above
# all must be understood).
CLINICAL_DEFERRAL_ES: Final = (
    "Esa es una pregunta para nuestro equipo clínico, así que un miembro del personal le "
    "devolverá la llamada para hablar de ello."
)
URGENT_DEFERRAL_ES: Final = (
    "No puedo dar consejos médicos, así que voy a marcar esto como urgente para nuestro equipo "
    "clínico, y alguien le devolverá la llamada lo antes posible. Si siente que es una "
    "emergencia, cuelgue y llame al 911. Adiós."
)
EMERGENCY_LINE_ES: Final = (
    "También voy a marcar lo que me dijo como urgente para nuestro equipo clínico. Si siente "
    "que es una emergencia, cuelgue y llame al 911. Adiós."
)
URGENT_FLAG_ES: Final = (
    "Voy a marcar lo que me dijo como urgente para nuestro equipo clínico. Si siente que es "
    "una emergencia, cuelgue y llame al 911."
)
URGENT_GOODBYE_ES: Final = (
    "De acuerdo. Nuestro equipo clínico le llamará lo antes posible. Si siente que es una "
    "emergencia, cuelgue y llame al 911. Adiós."
)
