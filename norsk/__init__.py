"""Norwegian language and care-domain basics shared by the domain libraries.

The bottom layer: ``transcription``, ``rubrics`` and ``anonymise`` may import it, and it imports
nothing of ours. :mod:`norsk.numbers` reads spoken Norwegian numbers, :mod:`norsk.vocabulary`
holds the fixed lists (services, speaker roles) and :mod:`norsk.display` the two tiny display
rules (``m:ss`` clock, ``ja``/``nei``) that domain text needs.
"""
