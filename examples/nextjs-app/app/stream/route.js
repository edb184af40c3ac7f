export const dynamic = 'force-dynamic';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Three chunks 400 ms apart, so a client can tell whether they arrive as they are sent.
export function GET() {
  const encoder = new TextEncoder();
  const stream = new ReadableStream({
    async start(controller) {
      for (let i = 1; i <= 3; i++) {
        if (i > 1) await sleep(400);
        controller.enqueue(encoder.encode(`chunk ${i}\n`));
      }
      controller.close();
    },
  });
  return new Response(stream, {
    headers: {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
    },
  });
}
