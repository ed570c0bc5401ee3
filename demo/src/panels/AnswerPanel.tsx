import { useState, type FormEvent } from 'react';
import { useRealtimeEvent } from 'ssemux/react';
import { post } from '../api';
import type { DemoClient } from '../client';

interface Answer {
  answerId: string;
  text: string;
  done: boolean;
}

const MAX_ANSWERS = 4;

/** Ask here; the answer's tokens stream into every tab (`answer-token` events). */
export function AnswerPanel({ client }: { client: DemoClient }) {
  const [prompt, setPrompt] = useState('Why share one connection between tabs?');
  // Newest first, keyed by answerId.
  const [answers, setAnswers] = useState<Answer[]>([]);
  const [error, setError] = useState('');

  useRealtimeEvent(client, 'answer-token', ({ data }) =>
    setAnswers((prev) => {
      const i = prev.findIndex((a) => a.answerId === data.answerId);
      if (i < 0) return [{ answerId: data.answerId, text: data.token, done: data.done }, ...prev].slice(0, MAX_ANSWERS);
      const next = [...prev];
      const a = next[i]!;
      next[i] = { ...a, text: a.text + data.token, done: data.done };
      return next;
    }),
  );

  const ask = async (event: FormEvent) => {
    event.preventDefault();
    setError('');
    try {
      await post('/ask', { prompt });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <section className="panel" data-testid="answer-panel">
      <h2>AI answer</h2>
      <form className="ask" onSubmit={(e) => void ask(e)}>
        <input
          type="text"
          value={prompt}
          onChange={(e) => setPrompt(e.target.value)}
          placeholder="Ask anything…"
          aria-label="Question"
          data-testid="ask-input"
        />
        <button type="submit" data-testid="ask-button">
          Ask
        </button>
      </form>
      {error && <p className="error">{error}</p>}
      {answers.length === 0 ? (
        <p className="empty">Ask a question: the answer streams token by token into every tab.</p>
      ) : (
        <ul className="answers">
          {answers.map((a) => (
            <li key={a.answerId} className="answer" data-testid="answer" data-answer-id={a.answerId} data-done={String(a.done)}>
              <div className="answer-head">
                <strong>{a.answerId}</strong>
                <span className={`tag${a.done ? ' ok' : ' live'}`}>{a.done ? 'complete' : 'streaming'}</span>
              </div>
              <p className="answer-text" data-testid="answer-text">
                {a.text}
                {!a.done && <span className="caret" aria-hidden="true" />}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
