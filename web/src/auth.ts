// Firebase Auth: email/password and anonymous ("Continue as guest"). The Auth emulator is used when the
// runtime config from /v1/config says so (emulatorUrl); nothing about Firebase is baked into the bundle.
import { initializeApp, type FirebaseApp } from "firebase/app";
import {
  browserLocalPersistence,
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  indexedDBLocalPersistence,
  initializeAuth,
  onAuthStateChanged,
  signInAnonymously,
  signInWithEmailAndPassword,
  signOut,
  type Auth,
} from "firebase/auth";
import type { User } from "./state";
import type { FirebasePublicConfig } from "./types";

export interface AuthClient {
  onChange(cb: (user: User | null) => void): () => void;
  signInGuest(): Promise<void>;
  signInEmail(email: string, password: string): Promise<void>;
  createAccount(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  idToken(forceRefresh: boolean): Promise<string | null>;
}

export function createAuth(cfg: FirebasePublicConfig): AuthClient {
  const app: FirebaseApp = initializeApp({ apiKey: cfg.apiKey, authDomain: cfg.authDomain, projectId: cfg.projectId });
  // initializeAuth (not getAuth): no popup/redirect resolver in the bundle, we only use these two methods.
  const auth: Auth = initializeAuth(app, { persistence: [indexedDBLocalPersistence, browserLocalPersistence] });
  if (cfg.emulatorUrl) connectAuthEmulator(auth, cfg.emulatorUrl, { disableWarnings: true });

  return {
    onChange(cb) {
      return onAuthStateChanged(auth, (u) =>
        cb(u ? { uid: u.uid, isAnonymous: u.isAnonymous, email: u.email } : null),
      );
    },
    async signInGuest() {
      await signInAnonymously(auth);
    },
    async signInEmail(email, password) {
      await signInWithEmailAndPassword(auth, email, password);
    },
    async createAccount(email, password) {
      await createUserWithEmailAndPassword(auth, email, password);
    },
    async signOut() {
      await signOut(auth);
    },
    async idToken(forceRefresh) {
      const u = auth.currentUser;
      return u ? u.getIdToken(forceRefresh) : null;
    },
  };
}
