/** Entry point of the console bundle (scripts/build-web.mjs). */
import { render } from 'preact';
import { App } from './app.js';

render(<App />, document.getElementById('app')!);
