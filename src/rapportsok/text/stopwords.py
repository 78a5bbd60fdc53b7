"""Stop words: bm25s's Norwegian and English lists (bm25s/stopwords.py, version 0.3.16, its English
one NLTK's), copied so that a search need not import bm25s, which imports SciPy; and the words that
say how a question is asked, in bokmål, nynorsk and English.

The index drops only the Norwegian stop words (`text/tokens.py`); English ones and question words
are dropped from queries (`querying/relevance.py`), so that «what does the report say about» or
«kva seier rapportane om» never count as what a question is about."""

STOPWORDS_NORWEGIAN = tuple(
    """
    alle at av bare begge ble blei bli blir blitt både båe da de deg dei deim deira deires dem den
    denne der dere deres det dette di din disse ditt du dykk dykkar då eg ein eit eitt eller elles
    en enn er et ett etter for fordi fra før ha hadde han hans har hennar henne hennes her hjå ho
    hoe honom hoss hossen hun hva hvem hver hvilke hvilken hvis hvor hvordan hvorfor i ikke ikkje
    ingen ingi inkje inn inni ja jeg kan kom korleis korso kun kunne kva kvar kvarhelst kven kvi
    kvifor man mange me med medan meg meget mellom men mi min mine mitt mot mykje ned no noe noen
    noka noko nokon nokor nokre nå når og også om opp oss over på samme seg selv si sia sidan siden
    sin sine sitt sjøl skal skulle slik so som somme somt så sånn til um upp ut uten var vart varte
    ved vere verte vi vil ville vore vors vort vår være vært å
    """.split()
)

STOPWORDS_ENGLISH = tuple(
    """
    a about above after again against ain all am an and any are aren as at be because been before
    being below between both but by can couldn d did didn do does doesn doing don down during each
    few for from further had hadn has hasn have haven having he her here hers herself him himself
    his how i if in into is isn it its itself just ll m ma me mightn more most mustn my myself needn
    no nor not now o of off on once only or other our ours ourselves out over own re s same shan she
    should shouldn so some such t than that the their theirs them themselves then there these they
    this those through to too under until up ve very was wasn we were weren what when where which
    while who whom why will with won wouldn y you your yours yourself yourselves
    """.split()
)

# Words that say how a question is asked, not what it is about (bokmål, nynorsk, English).
QUESTION_WORDS = tuple(
    """
    hva hvem hvilke hvilken hvilket hvor hvordan hvorfor når mange mye kor korleis kva kven kvifor kvar
    sier si står skriver skrive mener meiner går gå ut inneholder innebærer handler dreier beskriver omtaler
    seier seie skriv inneheld handlar omtalar fortel forteller finst
    rapport rapporten rapportene rapportens dokument dokumentet dokumentets meldingen meldinga stortingsmeldingen
    rapportane rapportar dokumenta frå òg ei utan berre medan
    ifølge ifølgje iflg finnes fins
    what which who whom how why when where many much does did do is are was were the a an of in on about to for
    and say says said tell tells report reports according document paper white there
    """.split()
)
