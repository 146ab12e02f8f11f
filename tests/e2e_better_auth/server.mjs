// A minimal Better Auth server, as a Next.js app would embed it: email and password
// sign-in, the jwt plugin (EdDSA keys, JWKS at /api/auth/jwks), PostgreSQL storage.
// Environment: PORT, DATABASE_URL, BETTER_AUTH_SECRET. Prints "ready <baseURL>".
import http from "node:http";
import pg from "pg";
import { betterAuth } from "better-auth";
import { jwt } from "better-auth/plugins";
import { toNodeHandler } from "better-auth/node";
import { getMigrations } from "better-auth/db/migration";

const port = Number(process.env.PORT);
const baseURL = `http://127.0.0.1:${port}`;
const options = {
  baseURL,
  secret: process.env.BETTER_AUTH_SECRET,
  database: new pg.Pool({ connectionString: process.env.DATABASE_URL }),
  emailAndPassword: { enabled: true },
  plugins: [jwt()],
};

const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);
http
  .createServer(toNodeHandler(auth))
  .listen(port, "127.0.0.1", () => console.log(`ready ${baseURL}`));
