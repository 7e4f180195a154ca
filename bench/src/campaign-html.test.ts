import assert from 'node:assert/strict';
import { test } from 'node:test';
import { campaignHtml } from './campaign-html';

test('the campaign HTML is at least the asked size, less than one row over, and the same every call', () => {
  for (const kb of [1, 50]) {
    const html = campaignHtml(kb);
    assert.ok(html.length >= kb * 1024, `${html.length} < ${kb * 1024}`);
    assert.ok(html.length < kb * 1024 + 300, `${html.length} is more than a row over ${kb * 1024}`);
    assert.equal(html, campaignHtml(kb));
    assert.match(html, /^<!doctype html>.*<\/html>$/);
  }
});
