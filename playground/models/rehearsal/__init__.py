"""The Hub rehearsal: the lesson's real models, rehearsed without the Hub.

``build`` makes the files of ``bert-base-uncased``, ``timm/vit_base_patch32_clip_224.openai``
and ``timm/ViT-B-16-SigLIP`` with their real names, real architectures and real
shapes (random weights; BERT's real WordPiece vocabulary; a SentencePiece model
trained on local text standing in for SigLIP's), and lays them out as a Hugging
Face cache in the layouts a user meets: as ``hf download`` leaves it, and as a
Space leaves it after first use. ``hub_server`` serves the same repos over HTTP
on loopback (``HF_ENDPOINT``), answering normally, with 503, or never, and logs
every request.

What it proves: the loaders read exactly these repos, files and shapes, offline
and online, within a bounded time. What it cannot prove: the accuracy of the
real weights.
"""
