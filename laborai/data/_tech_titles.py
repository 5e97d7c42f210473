"""Titles of the simulated AI, cloud-computing and RPA job posts (issue 12, item 4).

The plain titles of the simulated marketplace come from a bigram model of real snapshot titles
(``_pkgdata/title_vocabulary.json``). The technology titles are written here, from domain
knowledge of the work and of how marketplace titles are phrased, **not** from the labelled
real titles (``labels/real_titles_labelled.csv`` is the test set of the transfer benchmark,
``docs/classifier.md``): the tools, services and platforms that AI, cloud and RPA jobs name
(ChatGPT, OpenAI API, Midjourney, PyTorch; AWS, EC2, S3, Firebase, Heroku, Docker, Kubernetes,
Terraform; UiPath, Power Automate, Blue Prism ...), role-style forms ("DevOps Engineer needed",
"AWS expert to set up EC2", "Firebase backend developer"), task-style forms ("Deploy Django
app on DigitalOcean"), complete titles, and mixtures with the post's own plain title ("<plain
title> using ChatGPT").

A title is drawn in three steps: a *form* (complete title, task, role, role and task, plain
title with a tool), the words that fill it (a tool, a second tool, a role, a task, a project,
a language), and a *case* (as written; every word capitalised; all lower case, as marketplace
titles often are). Everything uses the simulator's text stream only.

The keyword traps come in two kinds: :data:`QUERY_TRAPS`, unrelated titles that the keyword
query *does* flag (Illustrator "AI" files not covered by its exclusions, "NO AI" voice work,
"AI" as initials, "ML" bottles, "RAG" status reports; "cloud kitchen", Salesforce "Marketing
Cloud", "upload to cloud storage", AWS welding codes), the query's false positives that the
model stage has to reject, and the substring traps of ``simulate._TRAPS``, which the query
itself rejects. How often the first kind is drawn is ``simulate._QUERY_TRAP_RATE``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AI", "CLOUD", "CLOUD_SKILLS", "MARKERS", "LANGUAGES", "QUERY_TRAPS", "RPA",
           "RPA_SKILLS", "Vocabulary", "is_technology_title", "write_titles"]

#: Languages of the translation and AI-data titles.
LANGUAGES = ("Spanish", "German", "French", "Japanese", "Arabic", "Portuguese", "Korean",
             "Italian", "Hindi", "Chinese", "Dutch", "Polish", "Turkish", "Vietnamese")


@dataclass(frozen=True)
class Vocabulary:
    """Words of one technology in one category.

    ``tools``: tool, service or topic names as written in titles; ``roles``: role nouns;
    ``tasks``: verb phrases (lower-case first letter, may hold ``{tool}``, ``{project}``,
    ``{lang}``); ``titles``: complete titles (same placeholders).
    """

    tools: tuple[str, ...]
    roles: tuple[str, ...]
    tasks: tuple[str, ...]
    titles: tuple[str, ...]


# ----------------------------------------------------------------------------- AI

_AI_DEV = Vocabulary(
    tools=("AI", "ChatGPT", "OpenAI API", "GPT-4", "GPT-3.5", "OpenAI", "LLM", "LangChain",
           "AI chatbot", "GPT", "Whisper", "Stable Diffusion", "machine learning", "Claude API",
           "Llama 2", "Hugging Face", "computer vision", "AI agent", "RAG", "Pinecone",
           "vector database", "TensorFlow", "PyTorch", "generative AI", "ElevenLabs API"),
    roles=("developer", "engineer", "expert", "integration developer", "Python developer",
           "full stack developer", "backend developer", "app developer", "consultant",
           "programmer"),
    tasks=("integrate {tool} into our website", "build a {tool} chatbot for {project}",
           "add {tool} features to our mobile app", "build an AI SaaS MVP",
           "connect ChatGPT to WhatsApp", "build a Telegram bot with ChatGPT",
           "build a Discord bot using the OpenAI API", "build an AI assistant for {project}",
           "create a custom GPT for {project}", "build a face recognition app",
           "build an object detection app", "create an AI image generator website",
           "build a RAG chatbot over our PDFs", "build semantic search with embeddings",
           "fine-tune a GPT model on our data", "add speech to text with Whisper",
           "build an AI voice assistant", "integrate Stable Diffusion API",
           "build a chatbot for WordPress site", "build a Chrome extension with ChatGPT",
           "create an AI resume builder", "build an AI writing tool",
           "build a Shopify app with GPT-4", "fix our LangChain agent",
           "deploy a Llama model on our server", "build an AI tutor app"),
    titles=("AI Developer", "AI Engineer", "ChatGPT integration", "OpenAI API integration",
            "ChatGPT API expert", "GPT-4 chatbot for website", "AI chatbot development",
            "Machine Learning Engineer", "LangChain developer", "Python developer - OpenAI",
            "AI app development", "Flutter app with ChatGPT", "React developer for AI startup",
            "AI SaaS web app", "Generative AI developer", "LLM engineer",
            "Computer vision app with OpenCV and AI", "AI-powered mobile app",
            "Custom ChatGPT plugin", "AI agent developer", "Next.js + OpenAI developer",
            "Build AI chatbot with LangChain", "Integrate OpenAI API into web app",
            "RAG search for {project} documents", "Add GPT-4 features to mobile app"),
)
_AI_DATA = Vocabulary(
    tools=("machine learning", "ML", "deep learning", "AI", "NLP", "computer vision",
           "TensorFlow", "PyTorch", "neural network", "LLM", "BERT", "Hugging Face",
           "scikit-learn", "OpenCV", "YOLO", "transformers", "GPT", "reinforcement learning"),
    roles=("engineer", "expert", "data scientist", "developer", "researcher", "consultant",
           "specialist", "modeler", "tutor"),
    tasks=("build a churn prediction model", "train an image classification model",
           "build a recommendation system", "fine-tune an LLM on our data",
           "run sentiment analysis on reviews", "build a predictive model for sales",
           "train an object detection model", "build a text classification model",
           "train a neural network for {project}", "forecast demand with machine learning",
           "build a fraud detection model", "deploy an ML model as an API",
           "improve our model accuracy", "build an OCR model for invoices",
           "train a speech recognition model", "extract entities with NLP",
           "cluster customers with machine learning", "label and train a YOLO model",
           "build a stock price prediction model", "fine-tune BERT for classification",
           "evaluate LLM outputs", "build a computer vision pipeline"),
    titles=("Machine Learning Engineer", "Data Scientist (Machine Learning)",
            "ML engineer needed", "Deep learning expert", "NLP expert", "Computer vision expert",
            "AI/ML developer", "Machine learning model", "PyTorch developer",
            "TensorFlow expert", "Python ML expert", "Data scientist for AI project",
            "Build machine learning model for churn prediction",
            "Fine-tune LLM on support tickets", "Computer vision model for {project}",
            "NLP sentiment analysis of reviews", "Predictive model for sales forecasting",
            "Deep learning model for image classification", "AI model training",
            "Train custom AI model", "Machine learning tutor", "LLM fine-tuning",
            "Neural network for time series forecasting", "MLOps engineer"),
)
_AI_WRITING = Vocabulary(
    tools=("AI", "ChatGPT", "GPT-4", "Jasper", "Claude", "AI writing tools", "GPT"),
    roles=("writer", "content writer", "editor", "copywriter", "proofreader", "ghostwriter",
           "prompt engineer", "AI trainer", "blog writer"),
    tasks=("edit AI-generated blog posts", "humanize AI content", "rewrite ChatGPT articles",
           "proofread an AI-written ebook", "write prompts for ChatGPT",
           "write product descriptions with AI", "train AI models with your writing",
           "evaluate AI chatbot responses", "fact-check AI articles for {project}",
           "turn ChatGPT drafts into blog posts", "write SEO articles using AI",
           "edit AI content for {project}", "write an ebook with ChatGPT"),
    titles=("AI content writer", "ChatGPT content editor", "Humanize AI-generated articles",
            "Edit ChatGPT drafts into blog posts", "AI content writer for {project}",
            "Prompt engineer for marketing copy", "AI writing trainer", "Prompt engineer",
            "ChatGPT prompt writer", "Freelance writer - AI training", "AI ghostwriter",
            "AI blog writer", "Editor for AI-generated content", "AI writing evaluator"),
)
_AI_DESIGN = Vocabulary(
    tools=("Midjourney", "Stable Diffusion", "DALL-E", "AI", "Leonardo AI", "Runway",
           "AI art", "ElevenLabs", "HeyGen", "Synthesia", "generative AI", "ChatGPT"),
    roles=("artist", "designer", "video creator", "animator", "prompt engineer", "expert",
           "video editor", "illustrator"),
    tasks=("create AI images for book covers", "make AI product photos",
           "create AI illustrations for a children's book", "make AI avatar videos",
           "make an AI voice over", "create AI video ads for {project}",
           "write Midjourney prompts", "generate AI art for an NFT collection",
           "make AI music", "create a talking head AI video", "create AI headshots",
           "make AI thumbnails for YouTube", "clone a voice with AI",
           "make AI generated images for {project}"),
    titles=("Midjourney artist", "Midjourney artist for book covers", "AI artist",
            "AI image generation for {project}", "Stable Diffusion product mockups",
            "AI avatar and art generation", "AI video creator", "AI voice over",
            "AI generated video", "Stable Diffusion expert", "DALL-E images",
            "AI animation", "AI art for children's book", "AI influencer images"),
)
_AI_TRANSLATION = Vocabulary(
    tools=("machine translation", "AI", "DeepL", "ChatGPT", "LLM", "MT"),
    roles=("translator", "post-editor", "linguist", "reviewer", "language specialist",
           "annotator", "AI trainer", "native speaker", "evaluator"),
    tasks=("post-edit machine translation", "review AI translations to {lang}",
           "post-edit {lang} machine translation output", "evaluate LLM translations",
           "improve ChatGPT translations", "record {lang} voice samples for AI",
           "transcribe {lang} audio for AI training", "rate AI translation quality",
           "proofread DeepL translation to {lang}", "write {lang} prompts for an AI model",
           "check AI subtitles in {lang}"),
    titles=("Post-edit machine translation output", "Review AI translations (DeepL, ChatGPT)",
            "Evaluate LLM translations for {project}", "AI-assisted localization QA",
            "{lang} MTPE (machine translation post-editing)", "{lang} linguist for AI project",
            "Native {lang} speakers for AI training data", "{lang} AI translation reviewer",
            "AI translation proofreading", "{lang} language expert for AI model"),
)
_AI_ADMIN = Vocabulary(
    tools=("AI", "ChatGPT", "machine learning", "computer vision", "AI model", "LLM"),
    roles=("data annotator", "data labeler", "AI trainer", "virtual assistant", "rater",
           "tester", "annotator"),
    tasks=("annotate images for AI", "label data for machine learning",
           "label images for a computer vision dataset", "collect AI training data",
           "rate chatbot answers", "test an AI chatbot", "draw bounding boxes for AI",
           "transcribe audio for AI training", "review AI search results",
           "use ChatGPT for research and data entry"),
    titles=("Data annotation for AI training data", "Label images for computer vision dataset",
            "Rate chatbot answers (AI evaluation)", "AI data annotator", "Image annotation",
            "Data labeling for machine learning", "AI training data collection",
            "Virtual assistant with ChatGPT skills", "AI chatbot tester", "AI rater"),
)
_AI_SUPPORT = Vocabulary(
    tools=("AI", "ChatGPT", "AI chatbot", "chatbot"),
    roles=("chatbot trainer", "support agent", "specialist", "expert"),
    tasks=("set up an AI chatbot for customer support", "train our support chatbot",
           "write ChatGPT replies for customer emails", "build an AI help desk bot",
           "review AI chatbot conversations"),
    titles=("Set up AI chatbot for customer support", "Train support chatbot responses",
            "AI customer support agent", "Chatbot trainer", "AI chat support setup"),
)
_AI_MARKETING = Vocabulary(
    tools=("AI", "ChatGPT", "Jasper", "AI tools", "GPT-4", "generative AI", "Midjourney"),
    roles=("marketer", "marketing specialist", "SEO expert", "copywriter",
           "social media manager", "growth marketer", "consultant"),
    tasks=("set up AI marketing automation", "plan AI SEO content",
           "make social media posts with ChatGPT", "build AI lead generation",
           "run AI-powered ad campaigns", "write ad copy with ChatGPT prompts",
           "create AI influencer content", "personalize emails with AI"),
    titles=("AI-powered lead scoring", "ChatGPT prompts for ad campaigns",
            "AI marketing automation for {project}", "AI marketing specialist",
            "AI SEO content", "ChatGPT social media content", "AI sales agent",
            "Jasper AI copywriter"),
)
_AI_LEGAL = Vocabulary(
    tools=("AI", "ChatGPT", "artificial intelligence", "AI-generated"),
    roles=("lawyer", "attorney", "legal consultant", "paralegal"),
    tasks=("review AI-generated contracts", "research AI regulation",
           "check EU AI Act compliance", "draft contracts with ChatGPT",
           "review the legal risks of AI-generated content"),
    titles=("Review AI-generated contracts", "Legal research on artificial intelligence regulation",
            "EU AI Act compliance", "AI legal assistant", "AI policy review"),
)
_AI_CONSULTING = Vocabulary(
    tools=("AI", "ChatGPT", "machine learning", "generative AI"),
    roles=("consultant", "strategist", "advisor", "trainer"),
    tasks=("plan our AI strategy", "train our team on ChatGPT", "automate bookkeeping with AI",
           "code invoices with machine learning", "build an AI adoption roadmap"),
    titles=("AI strategy consulting for {project}", "Machine learning for invoice coding",
            "AI strategy consultant", "AI business consultant", "ChatGPT training for our team",
            "AI automation consultant"),
)
_AI_IT = Vocabulary(
    tools=("AI", "machine learning", "ML", "LLM", "Stable Diffusion", "GPU"),
    roles=("engineer", "MLOps engineer", "system administrator", "expert"),
    tasks=("deploy a machine learning model on our server", "set up an MLOps pipeline",
           "set up a GPU server for AI", "install Stable Diffusion on a server",
           "run a local LLM on our server"),
    titles=("Deploy machine learning model on server", "MLOps pipeline setup", "MLOps engineer",
            "GPU server for AI training", "Self-hosted LLM setup"),
)
_AI_ENGINEERING = Vocabulary(
    tools=("AI", "computer vision", "machine learning", "Midjourney", "neural network"),
    roles=("engineer", "expert", "designer"),
    tasks=("detect defects with computer vision", "make AI architectural renders",
           "analyze sensor data with machine learning", "build AI robot navigation",
           "make Midjourney concept renders"),
    titles=("Computer vision for defect detection", "AI-generated architectural renders",
            "Machine learning for sensor data", "AI interior design renders"),
)

#: AI vocabulary by category.
AI: dict[str, Vocabulary] = {
    "Web, Mobile & Software Dev": _AI_DEV,
    "Data Science & Analytics": _AI_DATA,
    "Writing": _AI_WRITING,
    "Design & Creative": _AI_DESIGN,
    "Translation": _AI_TRANSLATION,
    "Admin Support": _AI_ADMIN,
    "Customer Service": _AI_SUPPORT,
    "Sales & Marketing": _AI_MARKETING,
    "Legal": _AI_LEGAL,
    "Accounting & Consulting": _AI_CONSULTING,
    "IT & Networking": _AI_IT,
    "Engineering & Architecture": _AI_ENGINEERING,
}

# ----------------------------------------------------------------------------- cloud

#: Cloud-computing vocabulary (one for every category; cloud posts are mostly IT and software).
CLOUD = Vocabulary(
    tools=("AWS", "Azure", "Google Cloud", "GCP", "AWS EC2", "EC2", "AWS S3", "S3 bucket",
           "AWS Lambda", "Lambda", "DynamoDB", "RDS", "Firebase", "Heroku", "DigitalOcean",
           "Docker", "Kubernetes", "Terraform", "Azure DevOps", "Azure Functions",
           "Google Cloud Run", "BigQuery", "AWS Amplify", "Elastic Beanstalk", "ECS", "EKS",
           "GKE", "CloudFormation", "serverless", "Linode", "Supabase", "AWS Cognito",
           "API Gateway", "CloudFront", "SQS", "SNS", "Ansible", "Helm", "Vercel",
           "Google App Engine", "Azure AD", "cloud", "cloud server", "cloud infrastructure",
           "private cloud", "hybrid cloud", "multi-cloud", "cloud-native", "cloud platform"),
    roles=("DevOps engineer", "cloud engineer", "cloud architect", "solutions architect",
           "cloud developer", "cloud consultant", "cloud security engineer",
           "cloud administrator",
           "developer", "engineer", "expert", "consultant", "backend developer", "specialist",
           "administrator", "SRE", "infrastructure engineer", "certified developer"),
    tasks=("set up a CI/CD pipeline", "deploy our Django app", "deploy a Node.js API",
           "migrate our WordPress site", "configure a load balancer", "set up auto scaling",
           "containerize our app", "reduce our hosting costs", "fix deployment issues",
           "set up monitoring and alerts", "host a React app", "configure VPC and security groups",
           "move our database", "build a serverless API", "set up daily backups",
           "manage our infrastructure", "set up a staging environment",
           "set up IAM roles and permissions", "deploy a Laravel app", "set up a Kubernetes cluster",
           "write Terraform scripts", "dockerize a Python app", "set up push notifications",
           "fix a server outage", "migrate from Heroku", "set up SSL and a custom domain",
           "scale our backend for {project}", "set up email sending with SES",
           "set up a cloud server for our app", "move our app to the cloud",
           "build a cloud-native backend", "set up cloud backups for our servers",
           "design our cloud architecture", "run our database in the cloud"),
    titles=("DevOps Engineer", "DevOps engineer needed", "Cloud Engineer", "AWS Solutions Architect",
            "Site Reliability Engineer (SRE)", "Kubernetes cluster setup",
            "Docker and Kubernetes expert", "Terraform infrastructure as code",
            "CI/CD pipeline with GitHub Actions", "Firebase backend developer",
            "Firebase Cloud Functions", "Deploy app to Heroku", "DigitalOcean droplet setup",
            "AWS EC2 instance setup", "S3 bucket and CloudFront setup", "Azure DevOps pipelines",
            "Google Cloud Run deployment", "BigQuery data warehouse", "Serverless API on AWS Lambda",
            "Migrate from Heroku to AWS", "Move website to AWS", "Cloud migration",
            "AWS cost optimization", "Linux server admin on AWS", "Dockerize Node.js app",
            "Kubernetes Helm charts", "Firestore database design", "Firebase authentication",
            "Supabase backend", "AWS Cognito login", "Azure cloud architect needed",
            "Set up Kubernetes on GCP", "Migrate servers to AWS", "Cloud security audit",
            "AWS certified engineer", "Google Cloud Platform data warehouse", "DevOps support",
            "DevOps for {project}", "Azure administrator", "Cloud infrastructure for {project}"),
)
#: Cloud skills (each names an include term of the keyword query, so that a cloud post whose
#: title names only e.g. Docker or Firebase is still found by the query on title + skills).
CLOUD_SKILLS = ("AWS", "Microsoft Azure", "Google Cloud Platform", "cloud computing",
                "AWS Lambda", "cloud migration", "Amazon EC2", "Kubernetes", "Terraform",
                "AWS CloudFormation", "cloud architecture", "serverless computing",
                "Azure DevOps", "Google Cloud Functions", "Amazon Web Services")

# ----------------------------------------------------------------------------- RPA

#: RPA vocabulary.
RPA = Vocabulary(
    tools=("UiPath", "Automation Anywhere", "Blue Prism", "Power Automate",
           "Power Automate Desktop", "RPA", "UiPath Studio", "RPA bot"),
    roles=("developer", "expert", "consultant", "bot developer", "automation engineer",
           "specialist", "architect"),
    tasks=("automate invoice processing", "build a bot for data entry", "automate SAP transactions",
           "automate Excel reports with a bot", "set up UiPath Orchestrator",
           "migrate bots from Blue Prism to UiPath", "automate a desktop app",
           "automate data entry from PDFs", "fix a failing RPA bot",
           "automate our claims process for {project}", "build attended bots"),
    titles=("UiPath developer for invoice processing bot", "Automation Anywhere bot for data entry",
            "Blue Prism RPA developer", "Robotic process automation for {project}",
            "RPA bot to automate SAP transactions", "RPA Developer", "UiPath expert",
            "Power Automate Desktop flow", "RPA consultant", "UiPath bot development"),
)
RPA_SKILLS = ("UiPath", "robotic process automation", "RPA", "Blue Prism", "Automation Anywhere",
              "Power Automate Desktop")

# ----------------------------------------------------------------------------- traps

#: Unrelated titles that the keyword query flags (its false positives), by category and
#: technology. ``tests/test_classify.py`` checks that each is flagged by its query.
QUERY_TRAPS: dict[str, dict[str, tuple[str, ...]]] = {
    "ai": {
        "Design & Creative": ("Convert JPG logo to AI", "Logo in AI, PNG and SVG",
                              "Send editable AI source of our logo", "Vectorize logo, deliver AI + PNG",
                              "Human voice over artist (no AI voices)", "Logo for AI Logistics LLC",
                              "Real narrator for audiobook - NO AI", "Label design for 30 ML dropper bottle"),
        "Writing": ("100% human-written articles, no AI", "Writer needed - NO AI tools",
                    "Human ghostwriter (no AI, no ChatGPT copy-paste)"),
        "Sales & Marketing": ("Flyer for AI Auto Repair", "Social media for AI Roofing",
                              "Packaging copy for 500 ML bottle"),
        "Admin Support": ("RAG status report in Excel", "Update project RAG tracker"),
        "Accounting & Consulting": ("Project RAG status dashboard",),
        "Engineering & Architecture": ("Packaging for 100 ML perfume bottle",),
        "Web, Mobile & Software Dev": ("Website for AI Plumbing & Heating",
                                       "Rule-based Telegram chatbot with buttons"),
    },
    "cloud": {
        "Design & Creative": ("Logo for our cloud kitchen", "Menu design for cloud kitchen",
                              "Cloud illustration for kids room mural", "Logo for Cloud Bakery"),
        "Sales & Marketing": ("Salesforce Marketing Cloud email templates",
                              "Marketing for a cloud kitchen brand",
                              "Salesforce Marketing Cloud journey builder"),
        "Admin Support": ("Upload product photos to cloud storage",
                          "Organize our Google Drive cloud folders",
                          "Back up phone photos to the cloud"),
        "Web, Mobile & Software Dev": ("Website for Blue Cloud Realty",
                                       "Salesforce Sales Cloud admin"),
        "Engineering & Architecture": ("AWS D1.1 certified welding inspector",
                                       "Steel welding drawings to AWS D1.1"),
        "Accounting & Consulting": ("Salesforce Service Cloud consultant",),
        "Customer Service": ("Salesforce Service Cloud support agent",),
    },
}

# ----------------------------------------------------------------------------- markers

#: Technology words of the plain-title model. That model was learned from real titles that
#: match no technology *query*, and the query misses some real technology titles, so a few of
#: its 3,316 words are technology words by the labelling definitions: lower-case "ai" (the
#: query's "AI" is case-sensitive), "DevOps", "docker", "Firebase", "Heroku", "Ansible",
#: "CI/CD", "Jenkins" (every one-word tool of the vocabularies above was checked against the
#: model's words; these are the ones it holds). Unrelated posts must not get them
#: (:func:`is_technology_title`); about 0.4% of the pool's titles did.
MARKERS = frozenset(("ai", "devops", "docker", "firebase", "heroku", "ansible", "ci/cd",
                     "jenkins"))


def is_technology_title(title: str) -> bool:
    """Whether a title holds a word of :data:`MARKERS`, case-insensitively, as a whole word:
    tokens are split on spaces and stripped of ``,:;()[]!?."'`` at either end."""
    m = MARKERS
    return any(w.strip(",:;()[]!?.\"'").lower() in m for w in title.split())


# ----------------------------------------------------------------------------- writer

_ROLE_FORMS = ("{tool} {role}", "{tool} {role} needed", "Need a {tool} {role}",
               "Looking for {tool} {role}", "Hiring: {tool} {role}", "Experienced {tool} {role}",
               "Senior {tool} {role}", "{tool} {role} for {project}", "{tool} {role} (long term)",
               "{tool} {role} - part time", "Expert {tool} {role} wanted",
               "{tool} and {tool2} {role}", "{tool}/{tool2} {role}", "{tool} {role} urgently needed")
_TASK_FORMS = ("{task}", "{task}", "{task} for {project}", "{task} ({tool})", "{task} - urgent",
               "{task} using {tool}", "Help me {task}", "Need help to {task}", "{task} ASAP",
               "{task} - {tool}", "I need someone to {task}")
_ROLE_TASK_FORMS = ("{tool} {role} to {task}", "{role} needed to {task}",
                    "{tool} {role} - {task}", "Looking for a {role} to {task}")
_PLAIN_FORMS = ("{plain} using {tool}", "{plain} with {tool}", "{tool} {plain}", "{plain} ({tool})",
                "{plain} - {tool}", "{tool} + {plain}", "{plain} + {tool} integration")
_LIST_FORMS = ("{tool}, {tool2} and {tool3}", "Set up {tool}, {tool2} and {tool3}",
               "{tool} / {tool2} / {tool3} {role}", "Help with {tool}, {tool2}, {tool3}")
#: Forms and their weights: complete title, task, role, role + task, plain + tool, tool list.
_FORMS = ("title", "task", "role", "role_task", "plain", "list")
_FORM_P = np.array([0.18, 0.18, 0.22, 0.08, 0.26, 0.08])
#: The same for AI posts: fewer plain titles with a tool (15% of AI posts already keep their
#: plain title), so that AI titles name their AI work about as often as real ones do.
FORM_P_AI = np.array([0.24, 0.24, 0.26, 0.10, 0.08, 0.08])
#: Case of the written title: as written, every word capitalised, all lower case.
_CASE_P = np.array([0.72, 0.20, 0.08])


def _capitalise(t: str) -> str:
    return t[:1].upper() + t[1:] if t else t


def _title_case(t: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in t.split(" "))


def _pick(u: float, options: tuple[str, ...]) -> str:
    return options[min(int(u * len(options)), len(options) - 1)]


def _fill(form: str, slots: dict[str, str]) -> str:
    """Fill the placeholders of ``form``: the task first (it may hold ``{tool}``,
    ``{project}``, ``{lang}``), the plain title last (its text is never read as a form)."""
    t = form.replace("{task}", slots["task"])
    for key in ("tool", "tool2", "tool3", "role", "project", "lang"):
        t = t.replace("{" + key + "}", slots[key])
    return t.replace("{plain}", slots["plain"])


def write_titles(rng: np.random.Generator, vocab: Vocabulary, plain: list[str],
                 projects: list[str], form_p: np.ndarray = _FORM_P) -> list[str]:
    """One title per post (``plain[i]``, ``projects[i]``: the post's plain title and project).

    Draws a fixed block of uniforms per post from ``rng`` (so the draws of one post do not
    depend on the forms of the others).
    """
    n = len(plain)
    if n == 0:
        return []
    u = rng.random((n, 10))
    form = np.searchsorted(np.cumsum(form_p), u[:, 0] * form_p.sum(), side="right")
    case = np.searchsorted(np.cumsum(_CASE_P), u[:, 1] * _CASE_P.sum(), side="right")
    out: list[str] = []
    for i in range(n):
        ui = u[i]
        tools = vocab.tools
        tool = _pick(ui[2], tools)
        tool2 = _pick(ui[3], tools)
        if tool2 == tool:
            tool2 = tools[(tools.index(tool) + 1) % len(tools)]
        tool3 = _pick(ui[4], tools)
        if tool3 in (tool, tool2):
            tool3 = next(t for t in tools[::-1] if t not in (tool, tool2))
        slots = {"tool": tool, "tool2": tool2, "tool3": tool3, "role": _pick(ui[5], vocab.roles),
                 "task": _pick(ui[6], vocab.tasks), "project": projects[i],
                 "lang": _pick(ui[7], LANGUAGES), "plain": plain[i]}
        kind = _FORMS[min(int(form[i]), len(_FORMS) - 1)]
        if kind == "title":
            t = _pick(ui[8], vocab.titles)
        else:
            forms = {"task": _TASK_FORMS, "role": _ROLE_FORMS, "role_task": _ROLE_TASK_FORMS,
                     "plain": _PLAIN_FORMS, "list": _LIST_FORMS}[kind]
            t = _pick(ui[8], forms)
        t = _fill(t, slots)
        t = _capitalise(t)
        c = int(case[i])
        if c == 1:
            t = _title_case(t)
        elif c == 2:
            t = t.lower()
        out.append(t)
    return out
