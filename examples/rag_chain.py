"""A plain LCEL chain with MemOS memory: ``MemOSRetriever`` for context, history for the turns.

The chain retrieves the user's memories for the question and puts them in the prompt with the
conversation so far; each exchange is then stored through ``MemOSChatMessageHistory``, so the next
question (in this conversation or another) can recall it. No agent, no graph. (LangChain has
deprecated ``RunnableWithMessageHistory``; the history is read and written explicitly here.)

With ``MEMOS_API_KEY`` set this uses the MemOS cloud; without it, the embedded engine in memory.
The answer comes from ``EXAMPLE_MODEL`` or ``OPENAI_API_KEY`` when set, else from a labelled
offline stand-in (see ``_chat_model.py``).

    python examples/rag_chain.py
"""

from __future__ import annotations

import os
from datetime import datetime

from _chat_model import chat_model, remembered
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableConfig

from langchain_memos import MemOSChatMessageHistory, MemOSClient, MemOSRetriever
from langchain_memos.types import SERVICE_TIMEZONE

USER_ID = "memos_user_123"

PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "You are a travel assistant. Use what you remember about the user when it helps.\n"
            "<memories>\n<facts>\n{facts}\n</facts>\n</memories>",
        ),
        MessagesPlaceholder("history"),
        ("human", "{question}"),
    ]
)


def as_fact_lines(docs: list[Document]) -> str:
    """Memories as the MemOS docs write facts: ``-[YYYY-MM-DD HH:MM] text``, in MemOS time."""
    lines = []
    for doc in docs:
        created = datetime.fromisoformat(doc.metadata["created_at"]).astimezone(SERVICE_TIMEZONE)
        lines.append(f"-[{created:%Y-%m-%d %H:%M}] {doc.page_content}")
    return "\n".join(lines)


def main() -> None:
    if os.environ.get("MEMOS_API_KEY"):
        client = MemOSClient()
    else:
        print("No MEMOS_API_KEY: using the embedded MemOS engine, in memory.")
        client = MemOSClient(embedded=":memory:")
    retriever = MemOSRetriever(client=client, k=5)

    chain = PROMPT | chat_model() | StrOutputParser()

    questions = [
        ("trip-planning", "We always travel as a family: my two kids and my parents."),
        ("national-day", "Where should we go for the National Day holiday with the kids?"),
    ]
    for session_id, question in questions:
        # wait=True: each exchange is searchable before the next question (slower; for demos).
        history = MemOSChatMessageHistory(USER_ID, session_id, client=client, wait=True)
        config = RunnableConfig(configurable={"user_id": USER_ID, "thread_id": session_id})
        facts = as_fact_lines(retriever.invoke(question, config=config))
        answer = chain.invoke(
            {"facts": facts, "history": history.messages, "question": question}, config
        )
        # Not the offline stand-in's answer: it only reports what it was given.
        exchange = [HumanMessage(question), AIMessage(answer)]
        history.add_messages([m for m in exchange if remembered(m)])
        print(f"\n[{session_id}] user: {question}")
        print(f"memories in the prompt:\n{facts or '(none)'}")
        print(f"assistant: {answer}")
    client.close()


if __name__ == "__main__":
    main()
